package kinds

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"time"

	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/hostnet"
)

// parser reads typed values out of attributes; the first bad one is kept
// as its error, naming the attribute (the rest read as zero values, never
// used because the caller returns the error).
type parser struct {
	a   Attrs
	err error
}

func (p *parser) fail(key string, err error) {
	if p.err == nil {
		p.err = fmt.Errorf("attribute %q (%q): %w", key, p.a[key], err)
	}
}

// done is the first bad attribute's error, naming the resource; nil when
// every attribute read parsed.
func (p *parser) done(addr string) error {
	if p.err != nil {
		return fmt.Errorf("%s: %w", addr, p.err)
	}
	return nil
}

// str is a required string.
func (p *parser) str(key string) string {
	v := p.a[key]
	if v == "" {
		p.fail(key, fmt.Errorf("missing"))
	}
	return v
}

// nameRe is what a kernel object's name may be: it goes into ip batches
// and shell lines unquoted.
var nameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@:-]*$`)

// name is a required kernel object name (interface, namespace).
func (p *parser) name(key string) string {
	v := p.str(key)
	if v != "" && !nameRe.MatchString(v) {
		p.fail(key, fmt.Errorf("not a name"))
	}
	return v
}

// optName is a name or nothing.
func (p *parser) optName(key string) string {
	if p.a[key] == "" {
		return ""
	}
	return p.name(key)
}

// addr is a required address.
func (p *parser) addr(key string) netip.Addr {
	a, err := netip.ParseAddr(p.a[key])
	if err != nil {
		p.fail(key, err)
	}
	return a
}

// optAddr is an address or nothing (the invalid Addr).
func (p *parser) optAddr(key string) netip.Addr {
	if p.a[key] == "" {
		return netip.Addr{}
	}
	return p.addr(key)
}

func (p *parser) prefix(key string) netip.Prefix {
	v, err := netip.ParsePrefix(p.a[key])
	if err != nil {
		p.fail(key, err)
	}
	return v
}

// num is a required whole number from min to max.
func (p *parser) num(key string, min, max int) int {
	n, err := strconv.Atoi(p.a[key])
	if err == nil && (n < min || n > max) {
		err = fmt.Errorf("out of range %d..%d", min, max)
	}
	if err != nil {
		p.fail(key, err)
	}
	return n
}

// optNum is a number, 0 when unset.
func (p *parser) optNum(key string, min, max int) int {
	if p.a[key] == "" {
		return 0
	}
	return p.num(key, min, max)
}

// json decodes a JSON attribute into v.
func (p *parser) json(key string, v any) {
	if err := json.Unmarshal([]byte(p.a[key]), v); err != nil {
		p.fail(key, err)
	}
}

func (p *parser) peers(key string) []hostnet.Peer {
	ps, err := hostnet.ParsePeers(p.a[key])
	if err != nil {
		p.fail(key, err)
	}
	return ps
}

// shaping reads a guest's rate, delay and loss (unset when missing, as in
// a state written before shaping existed).
func (p *parser) shaping() hostnet.Shaping {
	var s hostnet.Shaping
	if v := p.a["rate"]; v != "" {
		bits, canon, err := config.ParseRate(v)
		if err != nil {
			p.fail("rate", err)
		}
		s.Rate, s.RateBits = canon, bits
	}
	if v := p.a["delay"]; v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			p.fail("delay", err)
		}
		s.Delay = d
	}
	if v := p.a["loss"]; v != "" {
		l, err := config.ParseLoss(v)
		if err != nil {
			p.fail("loss", err)
		}
		s.Loss = l
	}
	return s
}

// hasLink says whether refresh saw the link (a nil read: assume it is there).
func hasLink(k *hostnet.Observed, name string) bool {
	if k == nil {
		return true
	}
	_, ok := k.Links[name]
	return ok
}
