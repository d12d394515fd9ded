package main

// Commands, read from stdin as JSON lines in the "serve" scenario; each answer
// is {"event":"result","id":<id>,"cmd":<cmd>,"ok":...,...}.
//
//	{"cmd":"open","streams":N,"bytes":M}  N concurrent 'E' streams of M bytes, echo verified
//	{"cmd":"send","bytes":M}              one 'F' stream: M bytes then FIN, wait for the remote FIN
//	{"cmd":"ping","count":K}              session.Ping() K times, RTTs in microseconds
//	{"cmd":"goaway"}                      session.GoAway()
//	{"cmd":"stats"}                       open stream count and session-level tap stats
//	{"cmd":"stream-stats","streamId":ID}  tap stats of one stream
//	{"cmd":"close"}                       close the session (the peer then exits)

import (
	"bufio"
	"encoding/json"
	"os"
	"sync"
	"time"
)

type command struct {
	ID       int    `json:"id"`
	Cmd      string `json:"cmd"`
	Streams  int    `json:"streams"`
	Bytes    int64  `json:"bytes"`
	Count    int    `json:"count"`
	StreamID uint32 `json:"streamId"`
}

// runScenario runs the chosen scenario and returns the exit status.
func (p *peer) runScenario() int {
	o := p.opts
	switch o.scenario {
	case "serve":
		go p.readCommands()
		return 0
	case "echo":
		return 0
	case "open", "send", "ping", "goaway":
		res := p.run(command{Cmd: o.scenario, Streams: o.streams, Bytes: o.bytes, Count: o.count})
		p.emit(res)
		if o.scenario == "goaway" {
			return 0 // keep echoing until the remote closes the session
		}
		p.session.Close()
		if res["ok"] == true {
			return 0
		}
		return 1
	default:
		p.emit(map[string]interface{}{"event": "error", "error": "unknown scenario " + o.scenario})
		p.session.Close()
		return 2
	}
}

// readCommands runs each stdin line concurrently; stdin EOF closes the session
// so the peer never outlives the test that started it.
func (p *peer) readCommands() {
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		var c command
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			p.emit(map[string]interface{}{"event": "error", "error": "bad command: " + err.Error()})
			continue
		}
		go func(c command) { p.emit(p.run(c)) }(c)
	}
	p.session.Close()
}

func (p *peer) run(c command) map[string]interface{} {
	var res map[string]interface{}
	switch c.Cmd {
	case "open":
		res = p.openMany(c.Streams, c.Bytes)
	case "send":
		res = p.sendFin(c.Bytes, uint64(c.ID))
	case "ping":
		res = p.pings(c.Count)
	case "goaway":
		err := p.session.GoAway()
		res = map[string]interface{}{"ok": err == nil}
		if err != nil {
			res["error"] = err.Error()
		}
	case "stats":
		res = map[string]interface{}{"ok": true, "numStreams": p.session.NumStreams(), "session": p.tap.sessionSnapshot()}
	case "stream-stats":
		res = map[string]interface{}{"ok": true, "stats": p.tap.stream(c.StreamID)}
	case "close":
		res = map[string]interface{}{"ok": p.session.Close() == nil}
	default:
		res = map[string]interface{}{"ok": false, "error": "unknown command " + c.Cmd}
	}
	res["event"] = "result"
	res["id"] = c.ID
	res["cmd"] = c.Cmd
	return res
}

func (p *peer) openMany(n int, bytes int64) map[string]interface{} {
	start := time.Now()
	results := make([]streamResult, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = p.openEcho(bytes, uint64(i+1))
		}(i)
	}
	wg.Wait()
	ok := n > 0
	var firstErr string
	for _, r := range results {
		if !r.OK {
			ok = false
			if firstErr == "" {
				firstErr = r.Error
			}
		}
	}
	res := map[string]interface{}{"ok": ok, "streams": results, "elapsedMs": time.Since(start).Milliseconds()}
	if firstErr != "" {
		res["error"] = firstErr
	}
	return res
}

func (p *peer) pings(count int) map[string]interface{} {
	rtts := make([]int64, 0, count)
	for i := 0; i < count; i++ {
		d, err := p.session.Ping()
		if err != nil {
			return map[string]interface{}{"ok": false, "error": err.Error(), "rttsUs": rtts}
		}
		rtts = append(rtts, d.Microseconds())
	}
	return map[string]interface{}{"ok": count > 0, "rttsUs": rtts}
}
