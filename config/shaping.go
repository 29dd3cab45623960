package config

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"
)

// Shaping is the egress shaping of a guest's eth0 (containers, VMs, pods):
// `rate = "100mbit"` (a token bucket), `delay = "20ms"` and `loss = "1%"`
// (the kernel's network emulator, netem). Zero values mean "not shaped":
// delay = "0s" and loss = "0%" are accepted and change nothing, so a
// variable can switch them off.
type Shaping struct {
	Rate  string        // canonical tc rate ("100mbit", "1.5gbit", "125kbps"); "" when unset
	Delay time.Duration // 0 when unset; 0 <= Delay < MaxDelay
	Loss  float64       // percent, 0..100; 0 when unset
}

// IsZero says whether nothing is shaped.
func (s Shaping) IsZero() bool { return s.Rate == "" && s.Delay == 0 && s.Loss == 0 }

// Limits of the shaping arguments.
const (
	// MaxDelay bounds delay: netem holds every delayed packet, so a delay
	// of minutes is a mistake, not an emulation.
	MaxDelay = 60 * time.Second
	// MinRateBits: tbf keeps its bucket as time at that rate in a 32-bit
	// count of 64 ns ticks (at most ~274 s), and labnet's bucket is at
	// least 16 KiB, so slower rates would wrap it and pass nothing.
	MinRateBits = 1000
	// MaxRateBits: beyond 100gbit the bucket (rate/250 bytes) stops
	// fitting tbf's 32-bit burst.
	MaxRateBits = 100e9
)

// rateUnits are tc's rate units, in bits per second.
var rateUnits = map[string]float64{
	"bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9,
	"bps": 8, "kbps": 8e3, "mbps": 8e6, "gbps": 8e9,
}

var (
	rateRe = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)([a-zA-Z]+)$`)
	lossRe = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)%$`)
)

// ParseRate reads tc's rate syntax: a number and one of the units bit,
// kbit, mbit, gbit (bits per second) or bps, kbps, mbps, gbps (bytes per
// second, as tc means them), case-insensitive. It returns the rate in
// bits per second and its canonical form (the number without redundant
// zeros, the unit in lower case), so "100Mbit" and "100.0mbit" compare
// equal. It does not check the range.
func ParseRate(s string) (bits float64, canonical string, err error) {
	m := rateRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, "", fmt.Errorf("not a number followed by a unit")
	}
	unit := strings.ToLower(m[2])
	mul, ok := rateUnits[unit]
	if !ok {
		return 0, "", fmt.Errorf("unknown unit %q", m[2])
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, "", fmt.Errorf("bad number %q", m[1])
	}
	return v * mul, strconv.FormatFloat(v, 'f', -1, 64) + unit, nil
}

// ParseLoss reads a percentage like "1%" or "0.5%" (0% to 100%).
func ParseLoss(s string) (float64, error) {
	m := lossRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("not a percentage")
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil || v < 0 || v > 100 {
		return 0, fmt.Errorf("out of range")
	}
	return v, nil
}

// FormatLoss is the canonical form of a loss percentage: "1%", "0.5%".
func FormatLoss(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) + "%" }

// shaping decodes the optional rate, delay and loss arguments of a guest
// block. It returns the shaping and the attribute values (canonical
// strings, null when unset); errors clear d.ok.
func (d *dec) shaping() (Shaping, map[string]cty.Value) {
	var sh Shaping
	vals := map[string]cty.Value{
		"rate": cty.NullVal(cty.String), "delay": cty.NullVal(cty.String), "loss": cty.NullVal(cty.String),
	}
	if s, ok := d.str("rate"); ok {
		bits, canon, err := ParseRate(s)
		switch {
		case err != nil:
			d.fail("rate", "Invalid rate",
				"The rate %q is not a rate like \"100mbit\": a number followed by one of the units bit, kbit, mbit, gbit (bits per second) or bps, kbps, mbps, gbps (bytes per second).", s)
		case bits <= 0:
			d.fail("rate", "Invalid rate", "The rate must be greater than 0, got %q; remove rate to leave the link unshaped.", s)
		case bits < MinRateBits:
			d.fail("rate", "Invalid rate", "The rate must be at least 1kbit, got %q.", s)
		case bits > MaxRateBits:
			d.fail("rate", "Invalid rate", "The rate must be at most 100gbit, got %q.", s)
		default:
			sh.Rate = canon
			vals["rate"] = cty.StringVal(canon)
		}
	}
	if s, ok := d.str("delay"); ok {
		t, err := time.ParseDuration(s)
		switch {
		case err != nil:
			d.fail("delay", "Invalid delay", "The delay %q is not a duration like \"20ms\" or \"1.5s\".", s)
		case t < 0:
			d.fail("delay", "Invalid delay", "The delay must not be negative, got %q.", s)
		case t >= MaxDelay:
			d.fail("delay", "Invalid delay", "The delay must be less than 60s, got %q.", s)
		default:
			sh.Delay = t
			vals["delay"] = cty.StringVal(t.String())
		}
	}
	if s, ok := d.str("loss"); ok {
		p, err := ParseLoss(s)
		switch {
		case err != nil && lossRe.MatchString(strings.TrimSpace(s)):
			d.fail("loss", "Invalid loss", "The loss must be from 0%% to 100%%, got %q.", s)
		case err != nil:
			d.fail("loss", "Invalid loss", "The loss %q is not a percentage like \"1%%\" or \"0.5%%\".", s)
		default:
			sh.Loss = p
			vals["loss"] = cty.StringVal(FormatLoss(p))
		}
	}
	return sh, vals
}

// withShaping adds the shaping attribute values to a guest's object.
func withShaping(obj, shape map[string]cty.Value) map[string]cty.Value {
	for k, v := range shape {
		obj[k] = v
	}
	return obj
}
