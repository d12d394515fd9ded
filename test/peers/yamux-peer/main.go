// Command yamux-peer is the reference yamux implementation (hashicorp/yamux,
// Debian's build) driven over plain TCP, used by Postern's interop tests.
//
//	yamux-peer --role client|server --addr 127.0.0.1:PORT [--max-window BYTES] [--scenario NAME]
//
// The server role listens on --addr (port 0 is fine: the real address is
// printed as {"event":"listening"}) and serves one connection; the client role
// dials --addr. Results are JSON lines on stdout; yamux's own log goes to stderr.
//
// Every stream opened by either side starts with one mode byte written by the
// opener: 'E' the acceptor echoes every byte until EOF, then closes; 'S' the
// acceptor waits --sink-delay-ms before reading (so the tap shows how far the
// sender went on the window alone), reads to EOF, then writes one JSON line
// {"bytes","sha256","receivedBeforeRead"} and closes; 'F' (sent by this peer
// only) the opener writes its data then FIN without reading.
//
// Scenarios: "serve" (default) echoes accepted streams and runs commands read
// from stdin as JSON lines ({"id":1,"cmd":"open","streams":64,"bytes":1048576});
// "echo" only echoes; "open", "send", "ping", "goaway" run that one command with
// --streams/--bytes/--count and then close the session. See commands.go.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/yamux"
)

type options struct {
	role        string
	addr        string
	maxWindow   uint
	scenario    string
	streams     int
	bytes       int64
	count       int
	sinkDelay   time.Duration
	keepAlive   time.Duration
	lifetime    time.Duration
	opTimeout   time.Duration
	acceptQueue int
}

// peer is one yamux session plus the tap under it.
type peer struct {
	opts    options
	session *yamux.Session
	tap     *tap
	outMu   sync.Mutex
}

// emit writes one JSON line to stdout.
func (p *peer) emit(v map[string]interface{}) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(fmt.Sprintf(`{"event":"error","error":%q}`, err.Error()))
	}
	p.outMu.Lock()
	defer p.outMu.Unlock()
	os.Stdout.Write(append(b, '\n'))
}

func parseOptions() options {
	var o options
	flag.StringVar(&o.role, "role", "", "client (dials --addr) or server (listens on --addr)")
	flag.StringVar(&o.addr, "addr", "127.0.0.1:0", "address to dial or listen on")
	flag.UintVar(&o.maxWindow, "max-window", 16*1024*1024, "yamux MaxStreamWindowSize in bytes")
	flag.StringVar(&o.scenario, "scenario", "serve", "serve, echo, open, send, ping or goaway")
	flag.IntVar(&o.streams, "streams", 1, "streams for the open scenario")
	flag.Int64Var(&o.bytes, "bytes", 1024*1024, "bytes per stream for open/send")
	flag.IntVar(&o.count, "count", 3, "pings for the ping scenario")
	flag.DurationVar(&o.sinkDelay, "sink-delay", 300*time.Millisecond, "wait before reading an 'S' stream")
	flag.DurationVar(&o.keepAlive, "keepalive", 30*time.Second, "yamux keep-alive interval")
	flag.DurationVar(&o.lifetime, "lifetime", 5*time.Minute, "exit with status 3 after this long")
	flag.DurationVar(&o.opTimeout, "op-timeout", 60*time.Second, "deadline for each stream operation")
	flag.IntVar(&o.acceptQueue, "accept-backlog", 256, "yamux AcceptBacklog")
	flag.Parse()
	if o.role != "client" && o.role != "server" {
		fmt.Fprintln(os.Stderr, "--role must be client or server")
		os.Exit(2)
	}
	return o
}

func connect(p *peer) (net.Conn, error) {
	if p.opts.role == "client" {
		return net.DialTimeout("tcp", p.opts.addr, 10*time.Second)
	}
	ln, err := net.Listen("tcp", p.opts.addr)
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	p.emit(map[string]interface{}{"event": "listening", "addr": ln.Addr().String()})
	return ln.Accept()
}

func main() {
	p := &peer{opts: parseOptions(), tap: newTap()}
	time.AfterFunc(p.opts.lifetime, func() {
		p.emit(map[string]interface{}{"event": "error", "error": "lifetime exceeded"})
		os.Exit(3)
	})
	conn, err := connect(p)
	if err != nil {
		p.emit(map[string]interface{}{"event": "error", "error": err.Error()})
		os.Exit(1)
	}
	cfg := yamux.DefaultConfig()
	cfg.MaxStreamWindowSize = uint32(p.opts.maxWindow)
	cfg.KeepAliveInterval = p.opts.keepAlive
	cfg.AcceptBacklog = p.opts.acceptQueue
	tc := newTapConn(conn, p.tap)
	if p.opts.role == "client" {
		p.session, err = yamux.Client(tc, cfg)
	} else {
		p.session, err = yamux.Server(tc, cfg)
	}
	if err != nil {
		p.emit(map[string]interface{}{"event": "error", "error": err.Error()})
		os.Exit(1)
	}
	p.emit(map[string]interface{}{"event": "connected", "role": p.opts.role})
	go p.acceptLoop()
	status := p.runScenario()
	<-p.session.CloseChan()
	p.emit(map[string]interface{}{"event": "session-closed", "session": p.tap.sessionSnapshot()})
	os.Exit(status)
}
