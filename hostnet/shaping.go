package hostnet

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/labnet-dev/labnet/remote"
)

// Shaping is a guest's egress shaping, applied as the root qdisc of eth0
// inside its namespace: a rate alone is a token bucket (tbf); a delay or
// a loss needs the network emulator (netem), which then carries the rate
// too (a netem root cannot have a tbf above it without classes).
type Shaping struct {
	Rate     string        // tc rate as configured ("100mbit"); "" for none
	RateBits float64       // Rate in bits per second
	Delay    time.Duration // 0 for none
	Loss     float64       // percent; 0 for none
}

// IsZero says whether nothing is shaped.
func (s Shaping) IsZero() bool { return s.Rate == "" && s.Delay == 0 && s.Loss == 0 }

// Kind is the root qdisc the shaping needs: "tbf", "netem", or "" for none.
func (s Shaping) Kind() string {
	switch {
	case s.Delay > 0 || s.Loss > 0:
		return "netem"
	case s.Rate != "":
		return "tbf"
	}
	return ""
}

// Shaping constants.
const (
	// tbfLatency bounds how long a packet may wait in the bucket's queue
	// (tc derives the queue's byte limit from it).
	tbfLatency = "50ms"
	// minBurst is the smallest bucket: it must hold a whole packet (a
	// 9000-byte jumbo frame; tbf splits GSO super-packets that do not fit)
	// and a few back-to-back 1500-byte frames, or a slow rate stalls.
	minBurst = 16 << 10
	// burstHz: the bucket must also hold what the rate sends between two
	// timer ticks, or tbf cannot reach its rate; 250 Hz is the coarsest
	// common kernel tick (CONFIG_HZ=250), so rate/250 bytes (4 ms' worth)
	// is enough for any kernel.
	burstHz = 250
)

// Burst is the tbf bucket size in bytes for the rate: max(rate/250, 16 KiB)
// (4 ms at the rate, and never less than 16 KiB).
func (s Shaping) Burst() uint64 {
	b := uint64(s.RateBits / 8 / burstHz)
	return max(b, minBurst)
}

// Qdisc is the tc qdisc specification ("tbf rate 100mbit burst 50000
// latency 50ms", "netem delay 20ms loss 1% rate 10mbit"); "" for none.
func (s Shaping) Qdisc() string {
	switch s.Kind() {
	case "tbf":
		return fmt.Sprintf("tbf rate %s burst %d latency %s", s.Rate, s.Burst(), tbfLatency)
	case "netem":
		return s.netem(tcTime)
	}
	return ""
}

// netem is the shaping's netem words, its delay written by delay (tc's
// units, or Go's for people).
func (s Shaping) netem(delay func(time.Duration) string) string {
	d, l := "", ""
	if s.Delay > 0 {
		d = delay(s.Delay)
	}
	if s.Loss > 0 {
		l = formatPercent(s.Loss)
	}
	return netemWords(d, l, s.Rate)
}

// netemWords is "netem [delay D] [loss L] [rate R]", leaving out what is "".
func netemWords(delay, loss, rate string) string {
	l := []string{"netem"}
	for _, w := range [][2]string{{"delay", delay}, {"loss", loss}, {"rate", rate}} {
		if w[1] != "" {
			l = append(l, w[0], w[1])
		}
	}
	return strings.Join(l, " ")
}

// String describes the shaping for people: "tbf rate 100mbit",
// "netem delay 20ms loss 1% rate 10mbit".
func (s Shaping) String() string {
	switch s.Kind() {
	case "tbf":
		return "tbf rate " + s.Rate
	case "netem":
		return s.netem(time.Duration.String)
	}
	return "no shaping"
}

// tcTime writes a duration in the largest unit tc reads that is exact.
func tcTime(d time.Duration) string {
	switch {
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	case d%time.Millisecond == 0:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	case d%time.Microsecond == 0:
		return fmt.Sprintf("%dus", d/time.Microsecond)
	}
	return fmt.Sprintf("%dns", d)
}

func formatPercent(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) + "%" }

// FormatRate writes bits per second in tc's largest bit unit: "100mbit",
// "1.5gbit", "8bit".
func FormatRate(bits float64) string {
	for _, u := range []struct {
		name  string
		scale float64
	}{{"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}} {
		if bits >= u.scale {
			return strconv.FormatFloat(bits/u.scale, 'f', -1, 64) + u.name
		}
	}
	return strconv.FormatFloat(bits, 'f', -1, 64) + "bit"
}

// labnetQdiscs are the root qdisc kinds labnet puts on eth0: when the lab
// asks for no shaping, these are removed and any other is left alone.
func isLabnetQdisc(kind string) bool { return kind == "tbf" || kind == "netem" }

// ShapeShell makes eth0's root qdisc in the guest's namespace match its
// shaping with one `tc -n NS qdisc replace dev eth0 root ...` (replace
// switches tbf and netem in place, so a change never leaves eth0
// unshaped). Without shaping it deletes the root qdisc, but only a tbf or
// netem one (what labnet puts there). When the kernel lacks the qdisc,
// tc says "Specified qdisc kind is unknown"; the step then fails naming
// the module and the host.
func (c Container) ShapeShell() string { return shapeShell(c.Netns, "eth0", c.Host, c.Shape) }

// shapeShell is ShapeShell for any interface of a namespace.
func shapeShell(netns, dev, host string, sh Shaping) string {
	ns, d := remote.Quote(netns), remote.Quote(dev)
	q := sh.Qdisc()
	if q == "" {
		return fmt.Sprintf("case $(tc -n %s qdisc show dev %s root 2>/dev/null) in *'qdisc tbf '*|*'qdisc netem '*) tc -n %s qdisc del dev %s root;; esac", ns, d, ns, d)
	}
	if host == "" {
		host = "this host"
	}
	need := "rate needs the kernel's tbf qdisc (sch_tbf)"
	if sh.Kind() == "netem" {
		need = "delay/loss need the kernel's netem qdisc (sch_netem)"
	}
	msg := fmt.Sprintf("%s, which %s does not have", need, host)
	return fmt.Sprintf("if tcout=$(tc -n %s qdisc replace dev %s root %s 2>&1); then :; else case $tcout in *'Specified qdisc kind is unknown'*) echo %s >&2;; *) printf '%%s\\n' \"$tcout\" >&2;; esac; false; fi",
		ns, d, q, remote.Quote(msg))
}

// AndThen joins two shell parts so the second runs only when the first
// succeeded, and the whole fails when either does (a step's status is its
// last command's). Braces keep here-documents in either part intact.
func AndThen(first, second string) string {
	return "{\n" + strings.TrimRight(first, "\n") + "\n} && {\n" + strings.TrimRight(second, "\n") + "\n}"
}

// Qdisc is eth0's root qdisc as `tc -j qdisc show` reports it.
type Qdisc struct {
	Kind  string
	Read  bool          // the options were understood
	Rate  float64       // bytes per second (tbf's rate, netem's rate); 0: none
	Delay time.Duration // netem
	Loss  float64       // netem, percent
}

// String describes what was read, like Shaping.String.
func (q Qdisc) String() string {
	switch q.Kind {
	case "tbf":
		return "tbf rate " + FormatRate(q.Rate*8)
	case "netem":
		d, l, r := "", "", ""
		if q.Delay > 0 {
			d = q.Delay.String()
		}
		if q.Loss > 0 {
			l = formatPercent(math.Round(q.Loss*1e4) / 1e4)
		}
		if q.Rate > 0 {
			r = FormatRate(q.Rate * 8)
		}
		return netemWords(d, l, r)
	}
	return q.Kind
}

// matches says whether what was read is the shaping (within what the
// kernel and tc's printing round off).
func (s Shaping) matches(q Qdisc) bool {
	if q.Kind != s.Kind() || !q.Read {
		return false
	}
	// tc truncates the rate to whole bytes per second.
	if math.Abs(q.Rate-s.RateBits/8) >= 1 {
		return false
	}
	if q.Kind == "tbf" {
		return true
	}
	// tc prints netem's delay in seconds and its loss as a fraction, with
	// six significant digits.
	dd := math.Abs(float64(q.Delay - s.Delay))
	if dd > math.Max(float64(time.Microsecond), float64(s.Delay)*1e-5) {
		return false
	}
	return math.Abs(q.Loss-s.Loss) <= math.Max(1e-4, s.Loss*1e-5)
}

// ShapeDrift says how eth0's root qdisc in ns differs from the guest's
// shaping, e.g. "eth0 has no tbf rate 100mbit (its root qdisc is
// noqueue)". Without shaping, only a tbf or netem root is drift.
func (c Container) ShapeDrift(ns *Netns) []string { return shapeDrift(ns, "eth0", "eth0", c.Shape) }

// shapeDrift is ShapeDrift for any interface of a namespace; what names
// it in the reasons.
func shapeDrift(ns *Netns, dev, what string, sh Shaping) []string {
	kind := ns.Links[dev].Qdisc
	read := ns.Qdiscs[dev]
	if dev == "eth0" {
		read = ns.Qdisc
	}
	if read != nil {
		kind = read.Kind
	}
	want := sh.Kind()
	switch {
	case want == "":
		if isLabnetQdisc(kind) {
			return []string{fmt.Sprintf("%s has a %s qdisc the lab does not ask for", what, kind)}
		}
		return nil
	case kind != want:
		if kind == "" {
			kind = "unknown"
		}
		return []string{fmt.Sprintf("%s has no %s (its root qdisc is %s)", what, sh, kind)}
	case read == nil || !read.Read:
		return []string{fmt.Sprintf("%s's %s qdisc could not be read, wants %s", what, kind, sh)}
	case !sh.matches(*read):
		return []string{fmt.Sprintf("%s has %s, wants %s", what, read, sh)}
	}
	return nil
}

// tcQdisc is one entry of `tc -j qdisc show`.
type tcQdisc struct {
	Kind    string          `json:"kind"`
	Root    bool            `json:"root"`
	Options json.RawMessage `json:"options"`
}

// ParseQdiscJSON reads `tc -j qdisc show dev eth0` and returns the root
// qdisc (nil when none is listed). Options it cannot read leave Read false.
func ParseQdiscJSON(data []byte) (*Qdisc, error) {
	var raw []tcQdisc
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	for _, r := range raw {
		if !r.Root {
			continue
		}
		q := &Qdisc{Kind: r.Kind}
		switch r.Kind {
		case "tbf":
			var o struct {
				Rate *float64 `json:"rate"`
			}
			if json.Unmarshal(r.Options, &o) == nil && o.Rate != nil {
				q.Rate, q.Read = *o.Rate, true
			}
		case "netem":
			// {"limit":1000,"delay":{"delay":0.02,"jitter":0},
			//  "loss-random":{"loss":0.01},"rate":{"rate":1250000},...}:
			// delay in seconds, loss as a fraction, rate in bytes/s.
			var o struct {
				Limit *float64 `json:"limit"`
				Delay *struct {
					Delay float64 `json:"delay"`
				} `json:"delay"`
				Loss *struct {
					Loss float64 `json:"loss"`
				} `json:"loss-random"`
				Rate *struct {
					Rate float64 `json:"rate"`
				} `json:"rate"`
			}
			if json.Unmarshal(r.Options, &o) == nil && o.Limit != nil {
				q.Read = true
				if o.Delay != nil {
					q.Delay = time.Duration(math.Round(o.Delay.Delay * float64(time.Second)))
				}
				if o.Loss != nil {
					q.Loss = o.Loss.Loss * 100
				}
				if o.Rate != nil {
					q.Rate = o.Rate.Rate
				}
			}
		default:
			q.Read = true
		}
		return q, nil
	}
	return nil, nil
}
