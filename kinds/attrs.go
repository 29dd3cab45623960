package kinds

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/hostnet"
)

// parser reads typed values out of attributes; the first bad one is kept
// as its error, naming the attribute (the rest read as zero values, never
// used because the caller returns the error). It notes every attribute
// read, so that done can refuse one the kind does not know: a kind's spec
// then cannot drop an attribute on its way to the state file.
type parser struct {
	a   Attrs
	err error
	// The attributes present and read, each once: an array, not a slice,
	// so that a parse allocates nothing for it (no kind reads 64).
	read  [64]string
	nread int
}

func (p *parser) fail(key string, err error) {
	if p.err == nil {
		p.err = fmt.Errorf("attribute %q (%q): %w", key, p.a[key], err)
	}
}

// get is an attribute's value, "" when absent, noted as read.
func (p *parser) get(key string) string {
	v, ok := p.a[key]
	if ok && !slices.Contains(p.read[:p.nread], key) {
		p.read[p.nread] = key
		p.nread++
	}
	return v
}

// done is the first bad attribute's error, or else the first attribute
// (in sorted order) that was not read, naming the resource; nil when
// every attribute parsed. An empty attribute is an absent one.
func (p *parser) done(addr string) error {
	if p.err == nil && p.nread < len(p.a) {
		var unknown []string
		for k, v := range p.a {
			if v != "" && !slices.Contains(p.read[:p.nread], k) {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			p.fail(slices.Min(unknown), fmt.Errorf("not an attribute of this kind"))
		}
	}
	if p.err != nil {
		return fmt.Errorf("%s: %w", addr, p.err)
	}
	return nil
}

// str is a required string.
func (p *parser) str(key string) string {
	v := p.get(key)
	if v == "" {
		p.fail(key, fmt.Errorf("missing"))
	}
	return v
}

// opt is an optional string, "" when absent.
func (p *parser) opt(key string) string { return p.get(key) }

// boolean is a required "true" or "false".
func (p *parser) boolean(key string) *bool {
	var b bool
	switch p.get(key) {
	case "true":
		b = true
	case "false":
	case "":
		p.fail(key, fmt.Errorf("missing"))
	default:
		p.fail(key, fmt.Errorf("not true or false"))
	}
	return &b
}

// isName says whether s may be a kernel object's name, which goes into ip
// batches and shell lines unquoted: ^[A-Za-z0-9][A-Za-z0-9_.@:-]*$ (a
// loop rather than a regexp: it runs for every guest of every load).
func isName(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '_' || c == '.' || c == '@' || c == ':' || c == '-'):
		default:
			return false
		}
	}
	return s != ""
}

// name is a required kernel object name (interface, namespace).
func (p *parser) name(key string) string {
	v := p.str(key)
	if v != "" && !isName(v) {
		p.fail(key, fmt.Errorf("not a name"))
	}
	return v
}

// optName is a name or nothing.
func (p *parser) optName(key string) string {
	if p.get(key) == "" {
		return ""
	}
	return p.name(key)
}

// addr is a required address.
func (p *parser) addr(key string) netip.Addr {
	v := p.str(key)
	if v == "" {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		p.fail(key, err)
	}
	return a
}

// optAddr is an address or nothing (the invalid Addr).
func (p *parser) optAddr(key string) netip.Addr {
	if p.get(key) == "" {
		return netip.Addr{}
	}
	return p.addr(key)
}

func (p *parser) prefix(key string) netip.Prefix {
	v := p.str(key)
	if v == "" {
		return netip.Prefix{}
	}
	pr, err := netip.ParsePrefix(v)
	if err != nil {
		p.fail(key, err)
	}
	return pr
}

// num is a required whole number from min to max. No number of any kind
// has 0 in its range: 0 stands for absent in a typed spec.
func (p *parser) num(key string, min, max int) int {
	v := p.str(key)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
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
	if p.get(key) == "" {
		return 0
	}
	return p.num(key, min, max)
}

// json decodes a required JSON attribute into v.
func (p *parser) json(key string, v any) {
	s := p.str(key)
	if s == "" {
		return
	}
	// encoding/json/v2: a nat table's rules are read on every load.
	if err := jsonv2.Unmarshal([]byte(s), v); err != nil {
		p.fail(key, err)
	}
}

// peers are a pod network's or segment's peers (none when absent: a
// segment on one host).
func (p *parser) peers(key string) []hostnet.Peer {
	ps, err := hostnet.ParsePeers(p.get(key))
	if err != nil {
		p.fail(key, err)
	}
	return ps
}

// shaping reads a guest's rate, delay and loss (unset when missing, as in
// a state written before shaping existed).
func (p *parser) shaping() hostnet.Shaping {
	var s hostnet.Shaping
	if v := p.get("rate"); v != "" {
		bits, canon, err := config.ParseRate(v)
		if err != nil {
			p.fail("rate", err)
		}
		s.Rate, s.RateBits = canon, bits
	}
	if v := p.get("delay"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			p.fail("delay", err)
		}
		s.Delay = d
	}
	if v := p.get("loss"); v != "" {
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

// out builds a typed spec's attributes, the inverse of parser: a zero
// value is an absent attribute.
type out Attrs

func (o out) str(k, v string) {
	if v != "" {
		o[k] = v
	}
}

func (o out) num(k string, n int) {
	if n != 0 {
		o[k] = strconv.Itoa(n)
	}
}

func (o out) addr(k string, a netip.Addr) {
	if a.IsValid() {
		o[k] = a.String()
	}
}

func (o out) prefix(k string, p netip.Prefix) {
	if p.IsValid() {
		o[k] = p.String()
	}
}

func (o out) boolean(k string, b *bool) {
	if b != nil {
		o[k] = strconv.FormatBool(*b)
	}
}

// jsonAttr is the text of a JSON attribute (a command, nat rules), for
// expand and for a spec's Attrs alike, so the two agree byte for byte:
// compact encoding/json/v2, which is also quicker than encoding/json on
// the path of every load.
func jsonAttr(v any) string {
	b, err := jsonv2.Marshal(v)
	if err != nil {
		// Only lists of strings and of hostnet.NatRule come here.
		panic(err)
	}
	return string(b)
}
