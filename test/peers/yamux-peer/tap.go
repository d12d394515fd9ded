package main

// A passive tap on the TCP connection under the yamux session. It parses the
// frame headers flowing each way so the peer can report what happened on the
// wire (window credit, FIN, go-away) independently of yamux's private state.
// That makes the interop assertions able to fail: a Postern that never grants
// more than 256 KiB cannot push peakSendCredit above 256 KiB.

import (
	"encoding/binary"
	"net"
	"sync"
)

const (
	initialWindow = 256 * 1024
	headerSize    = 12
	typeData      = 0
	typeWindow    = 1
	typePing      = 2
	typeGoAway    = 3
	flagSYN       = 0x1
	flagFIN       = 0x4
	flagRST       = 0x8
)

// streamStats is what the tap saw for one stream id.
type streamStats struct {
	DataIn         int64 `json:"dataIn"`
	DataOut        int64 `json:"dataOut"`
	WindowIn       int64 `json:"windowIn"`
	WindowOut      int64 `json:"windowOut"`
	FinIn          bool  `json:"finIn"`
	FinOut         bool  `json:"finOut"`
	RstIn          bool  `json:"rstIn"`
	RstOut         bool  `json:"rstOut"`
	SynIn          bool  `json:"synIn"`
	DataInAfterFin int64 `json:"dataInAfterFinOut"`
	// PeakSendCredit is max(256 KiB + windowIn - dataOut): the largest send
	// window the remote ever granted this side.
	PeakSendCredit int64 `json:"peakSendCredit"`
	// PeakRecvCredit is max(256 KiB + windowOut - dataIn): the largest window
	// this side ever granted the remote.
	PeakRecvCredit int64 `json:"peakRecvCredit"`
}

// sessionStats is what the tap saw for stream id 0.
type sessionStats struct {
	PingsIn    int    `json:"pingsIn"`
	PingsOut   int    `json:"pingsOut"`
	GoAwayIn   *int64 `json:"goAwayIn"`
	GoAwayOut  *int64 `json:"goAwayOut"`
	FramesIn   int64  `json:"framesIn"`
	FramesOut  int64  `json:"framesOut"`
	BadVersion bool   `json:"badVersion"`
	// SynsOutOfOrder counts SYNs this side sent with an id below one it had already opened:
	// yamux opens streams from many goroutines and does not order their SYNs.
	SynsOutOfOrder int `json:"synsOutOfOrder"`
}

type tap struct {
	mu        sync.Mutex
	streams   map[uint32]*streamStats
	session   sessionStats
	maxSynOut uint32
}

func newTap() *tap { return &tap{streams: make(map[uint32]*streamStats)} }

// stream returns a copy of the stats for id (zero value if unseen).
func (t *tap) stream(id uint32) streamStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.streams[id]; ok {
		return *s
	}
	return streamStats{}
}

func (t *tap) sessionSnapshot() sessionStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.session
}

func (t *tap) get(id uint32) *streamStats {
	s, ok := t.streams[id]
	if !ok {
		s = &streamStats{PeakSendCredit: initialWindow, PeakRecvCredit: initialWindow}
		t.streams[id] = s
	}
	return s
}

// frame records one header; inbound tells the direction.
func (t *tap) frame(inbound bool, typ byte, flags uint16, id uint32, length uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if inbound {
		t.session.FramesIn++
	} else {
		t.session.FramesOut++
	}
	switch typ {
	case typePing:
		if flags&flagSYN != 0 {
			if inbound {
				t.session.PingsIn++
			} else {
				t.session.PingsOut++
			}
		}
		return
	case typeGoAway:
		code := int64(length)
		if inbound {
			t.session.GoAwayIn = &code
		} else {
			t.session.GoAwayOut = &code
		}
		return
	}
	s := t.get(id)
	if inbound {
		t.recordIn(s, typ, flags, length)
	} else {
		if flags&flagSYN != 0 {
			t.recordSynOut(id)
		}
		t.recordOut(s, typ, flags, length)
	}
	if c := initialWindow + s.WindowIn - s.DataOut; c > s.PeakSendCredit {
		s.PeakSendCredit = c
	}
	if c := initialWindow + s.WindowOut - s.DataIn; c > s.PeakRecvCredit {
		s.PeakRecvCredit = c
	}
}

func (t *tap) recordIn(s *streamStats, typ byte, flags uint16, length uint32) {
	if typ == typeData {
		s.DataIn += int64(length)
		if s.FinOut {
			s.DataInAfterFin += int64(length)
		}
	} else {
		s.WindowIn += int64(length)
	}
	s.SynIn = s.SynIn || flags&flagSYN != 0
	s.FinIn = s.FinIn || flags&flagFIN != 0
	s.RstIn = s.RstIn || flags&flagRST != 0
}

func (t *tap) recordSynOut(id uint32) {
	if id < t.maxSynOut {
		t.session.SynsOutOfOrder++
	} else {
		t.maxSynOut = id
	}
}

func (t *tap) recordOut(s *streamStats, typ byte, flags uint16, length uint32) {
	if typ == typeData {
		s.DataOut += int64(length)
	} else {
		s.WindowOut += int64(length)
	}
	s.FinOut = s.FinOut || flags&flagFIN != 0
	s.RstOut = s.RstOut || flags&flagRST != 0
}

// frameParser follows one direction of the byte stream: a header, then the
// payload of a data frame, which it skips.
type frameParser struct {
	tap     *tap
	inbound bool
	hdr     [headerSize]byte
	hdrN    int
	skip    uint32
}

func (p *frameParser) feed(b []byte) {
	for len(b) > 0 {
		if p.skip > 0 {
			n := uint32(len(b))
			if n > p.skip {
				n = p.skip
			}
			p.skip -= n
			b = b[n:]
			continue
		}
		n := copy(p.hdr[p.hdrN:], b)
		p.hdrN += n
		b = b[n:]
		if p.hdrN < headerSize {
			return
		}
		p.hdrN = 0
		if p.hdr[0] != 0 {
			p.tap.mu.Lock()
			p.tap.session.BadVersion = true
			p.tap.mu.Unlock()
		}
		typ := p.hdr[1]
		flags := binary.BigEndian.Uint16(p.hdr[2:4])
		id := binary.BigEndian.Uint32(p.hdr[4:8])
		length := binary.BigEndian.Uint32(p.hdr[8:12])
		p.tap.frame(p.inbound, typ, flags, id, length)
		if typ == typeData {
			p.skip = length
		}
	}
}

// tapConn is a net.Conn whose reads and writes are fed to two parsers.
type tapConn struct {
	net.Conn
	in  *frameParser
	out *frameParser
	wmu sync.Mutex
}

func newTapConn(c net.Conn, t *tap) *tapConn {
	return &tapConn{Conn: c, in: &frameParser{tap: t, inbound: true}, out: &frameParser{tap: t}}
}

func (c *tapConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.in.feed(b[:n])
	return n, err
}

// Write records the frames before writing them: once the bytes are on the socket the
// remote may answer, and the answer must not be tapped before the frame that caused it.
// (net.Conn writes everything or fails, and a failed write ends the session anyway.)
func (c *tapConn) Write(b []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.out.feed(b)
	return c.Conn.Write(b)
}
