// Command egress-connect-client dials through an HTTP CONNECT proxy exactly the way
// kube-apiserver's egress selector does (tunnelHTTPConnect in k8s.io/apiserver
// pkg/server/egressselector/egress_selector.go: a fixed request with Host 127.0.0.1,
// http.ReadResponse on a bufio.Reader, status 200 required, no bytes buffered after the
// response), then sends a line through the tunnel and prints one JSON result.
package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

type result struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	Echo  string `json:"echo,omitempty"`
}

func main() {
	uds := flag.String("uds", "", "Unix socket of the proxy")
	tcp := flag.String("tcp", "", "host:port of the proxy (mTLS)")
	caFile := flag.String("ca", "", "CA bundle for the proxy's certificate")
	certFile := flag.String("cert", "", "client certificate")
	keyFile := flag.String("key", "", "client key")
	target := flag.String("target", "", "destination host:port")
	flag.Parse()
	out := json.NewEncoder(os.Stdout)
	conn, proxyAddress, err := dialProxy(*uds, *tcp, *caFile, *certFile, *keyFile)
	if err == nil {
		conn, err = tunnelHTTPConnect(conn, proxyAddress, *target)
	}
	if err != nil {
		_ = out.Encode(result{Error: err.Error()})
		return
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprint(conn, "hello from the apiserver\n"); err != nil {
		_ = out.Encode(result{Error: err.Error()})
		return
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		_ = out.Encode(result{Error: err.Error()})
		return
	}
	_ = out.Encode(result{OK: true, Echo: line})
}

func dialProxy(uds, tcp, caFile, certFile, keyFile string) (net.Conn, string, error) {
	if uds != "" {
		c, err := net.DialTimeout("unix", uds, 5*time.Second)
		return c, uds, err
	}
	pool := x509.NewCertPool()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, tcp, err
	}
	pool.AppendCertsFromPEM(pem)
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, tcp, err
	}
	host, _, _ := net.SplitHostPort(tcp)
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", tcp, &tls.Config{
		RootCAs: pool, Certificates: []tls.Certificate{pair}, ServerName: host,
	})
	return c, tcp, err
}

// tunnelHTTPConnect follows kube-apiserver's function of the same name step by step.
func tunnelHTTPConnect(proxyConn net.Conn, proxyAddress, addr string) (net.Conn, error) {
	fmt.Fprintf(proxyConn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", addr, "127.0.0.1")
	br := bufio.NewReader(io.LimitReader(proxyConn, http.DefaultMaxHeaderBytes))
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		proxyConn.Close()
		return nil, fmt.Errorf("reading HTTP response from CONNECT to %s via proxy %s failed: %v", addr, proxyAddress, err)
	}
	if res.StatusCode != 200 {
		proxyConn.Close()
		return nil, fmt.Errorf("proxy error from %s while dialing %s, code %d: %v", proxyAddress, addr, res.StatusCode, res.Status)
	}
	if br.Buffered() > 0 {
		proxyConn.Close()
		return nil, fmt.Errorf("unexpected %d bytes of buffered data from CONNECT proxy %q", br.Buffered(), proxyAddress)
	}
	return proxyConn, nil
}
