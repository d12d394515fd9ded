package main

// Stream behaviours: the acceptor side (echo, sink) and the opener side
// (open-and-verify echo, send-then-FIN). Deterministic data comes from a
// xorshift generator so both ends can hash what they saw.

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/hashicorp/yamux"
)

const chunkSize = 64 * 1024

// writePattern writes n deterministic bytes (seeded) to w and returns their sha256.
func writePattern(w io.Writer, n int64, seed uint64) (string, error) {
	h := sha256.New()
	x := seed*0x9E3779B97F4A7C15 + 1
	buf := make([]byte, chunkSize)
	for n > 0 {
		size := int64(len(buf))
		if n < size {
			size = n
		}
		for i := int64(0); i < size; i += 8 {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			for j := int64(0); j < 8 && i+j < size; j++ {
				buf[i+j] = byte(x >> (8 * j))
			}
		}
		h.Write(buf[:size])
		if _, err := w.Write(buf[:size]); err != nil {
			return "", err
		}
		n -= size
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func sum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

func (p *peer) acceptLoop() {
	for {
		s, err := p.session.AcceptStream()
		if err != nil {
			return
		}
		go p.serveStream(s)
	}
}

// serveStream dispatches on the opener's mode byte.
func (p *peer) serveStream(s *yamux.Stream) {
	s.SetDeadline(time.Now().Add(p.opts.opTimeout))
	mode := make([]byte, 1)
	if _, err := io.ReadFull(s, mode); err != nil {
		p.emit(map[string]interface{}{"event": "error", "streamId": s.StreamID(), "error": "mode byte: " + err.Error()})
		s.Close()
		return
	}
	switch mode[0] {
	case 'E':
		p.echo(s)
	case 'S':
		p.sink(s)
	default:
		p.emit(map[string]interface{}{"event": "error", "streamId": s.StreamID(), "error": fmt.Sprintf("unknown mode %q", mode[0])})
		s.Close()
	}
}

// echo copies everything back until EOF, then half-closes.
func (p *peer) echo(s *yamux.Stream) {
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(s, h), s)
	ev := map[string]interface{}{"event": "echo-done", "streamId": s.StreamID(), "bytes": n, "sha256": sum(h)}
	if err != nil {
		ev["error"] = err.Error()
	}
	s.Close()
	ev["stats"] = p.tap.stream(s.StreamID())
	p.emit(ev)
}

// sink waits, then reads to EOF and answers with one JSON line after the peer's FIN.
func (p *peer) sink(s *yamux.Stream) {
	time.Sleep(p.opts.sinkDelay)
	before := p.tap.stream(s.StreamID()).DataIn
	h := sha256.New()
	n, err := io.Copy(h, s)
	reply := map[string]interface{}{"bytes": n, "sha256": sum(h), "receivedBeforeRead": before}
	if err != nil {
		reply["error"] = err.Error()
	}
	b, _ := json.Marshal(reply)
	_, werr := s.Write(append(b, '\n'))
	s.Close()
	ev := map[string]interface{}{"event": "sink-done", "streamId": s.StreamID(), "reply": reply, "stats": p.tap.stream(s.StreamID())}
	if werr != nil {
		ev["error"] = "reply: " + werr.Error()
	}
	p.emit(ev)
}

// streamResult is one opened stream's outcome.
type streamResult struct {
	StreamID uint32      `json:"streamId"`
	OK       bool        `json:"ok"`
	Error    string      `json:"error,omitempty"`
	Sent     string      `json:"sentSha256,omitempty"`
	Received string      `json:"receivedSha256,omitempty"`
	Stats    streamStats `json:"stats"`
}

// openEcho opens a stream in 'E' mode, sends n bytes while reading the echo,
// and closes only after the whole echo arrived (Close then Read gives EOF here).
func (p *peer) openEcho(n int64, seed uint64) streamResult {
	s, err := p.session.OpenStream()
	if err != nil {
		return streamResult{Error: err.Error()}
	}
	r := streamResult{StreamID: s.StreamID()}
	s.SetDeadline(time.Now().Add(p.opts.opTimeout))
	sent := make(chan error, 1)
	go func() {
		if _, err := s.Write([]byte{'E'}); err != nil {
			sent <- err
			return
		}
		sha, err := writePattern(s, n, seed)
		r.Sent = sha
		sent <- err
	}()
	h := sha256.New()
	_, rerr := io.CopyN(h, bufio.NewReaderSize(s, chunkSize), n)
	werr := <-sent
	r.Received = sum(h)
	s.Close()
	switch {
	case werr != nil:
		r.Error = "write: " + werr.Error()
	case rerr != nil:
		r.Error = "read: " + rerr.Error()
	case r.Sent != r.Received:
		r.Error = "echo differs from what was sent"
	default:
		r.OK = true
	}
	r.Stats = p.tap.stream(s.StreamID())
	return r
}

// sendFin opens an 'F' stream, writes n bytes, half-closes, then waits (bounded)
// for the remote's FIN so the result shows whether data followed our FIN.
func (p *peer) sendFin(n int64, seed uint64) map[string]interface{} {
	s, err := p.session.OpenStream()
	if err != nil {
		return map[string]interface{}{"ok": false, "error": err.Error()}
	}
	s.SetDeadline(time.Now().Add(p.opts.opTimeout))
	res := map[string]interface{}{"streamId": s.StreamID(), "bytes": n}
	if _, err = s.Write([]byte{'F'}); err == nil {
		res["sha256"], err = writePattern(s, n, seed)
	}
	s.Close()
	deadline := time.Now().Add(p.opts.opTimeout)
	for !p.tap.stream(s.StreamID()).FinIn && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	st := p.tap.stream(s.StreamID())
	res["stats"] = st
	res["ok"] = err == nil && st.FinIn
	if err != nil {
		res["error"] = err.Error()
	} else if !st.FinIn {
		res["error"] = "no FIN from the remote within the deadline"
	}
	return res
}
