package config

import (
	"strings"
	"testing"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		in    string
		bits  float64
		canon string
		err   bool
	}{
		{"100mbit", 100e6, "100mbit", false},
		{"100Mbit", 100e6, "100mbit", false},
		{"0100.50MBIT", 100.5e6, "100.5mbit", false},
		{"1.5gbit", 1.5e9, "1.5gbit", false},
		{"8bit", 8, "8bit", false},
		{"125kbps", 1e6, "125kbps", false},
		{"1mbps", 8e6, "1mbps", false},
		{"2gbps", 16e9, "2gbps", false},
		{"10kbit", 1e4, "10kbit", false},
		{"100", 0, "", true},      // tc would read bits; labnet wants the unit
		{"100mb", 0, "", true},    // a size, not a rate
		{"100 mbit", 0, "", true}, // no space
		{"-1mbit", 0, "", true},   // no sign
		{".5mbit", 0, "", true},   // a digit first
		{"100kibit", 0, "", true}, // not among the units labnet accepts
		{"", 0, "", true},
	}
	for _, tt := range tests {
		bits, canon, err := ParseRate(tt.in)
		if (err != nil) != tt.err || bits != tt.bits || canon != tt.canon {
			t.Errorf("ParseRate(%q) = %v, %q, %v; want %v, %q, error %v", tt.in, bits, canon, err, tt.bits, tt.canon, tt.err)
		}
	}
}

func TestParseLoss(t *testing.T) {
	for in, want := range map[string]float64{"0%": 0, "1%": 1, "0.5%": 0.5, "100%": 100, "100.0%": 100, "007%": 7} {
		if got, err := ParseLoss(in); err != nil || got != want {
			t.Errorf("ParseLoss(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"abc", "1", "101%", "100.01%", "-1%", "1 %", "%", ""} {
		if got, err := ParseLoss(in); err == nil {
			t.Errorf("ParseLoss(%q) = %v, want an error", in, got)
		}
	}
	if got := FormatLoss(0.5); got != "0.5%" {
		t.Errorf("FormatLoss(0.5) = %q", got)
	}
}

// TestShapingBounds checks the edges of each range through the loader.
func TestShapingBounds(t *testing.T) {
	lab := func(attr string) string {
		return `
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
bridge "b0" {
  host = host.h
  cidr = "172.17.0.0/16"
}
container "c" {
  host   = host.h
  bridge = bridge.b0
  ` + attr + `
}
`
	}
	tests := []struct {
		attr string
		err  string // "" when valid
	}{
		{`rate = "1kbit"`, ""},
		{`rate = "999bit"`, "at least 1kbit"},
		{`rate = "100gbit"`, ""},
		{`rate = "100.001gbit"`, "at most 100gbit"},
		{`rate = "0bit"`, "greater than 0"},
		{`rate = null`, ""},
		{`rate = ["1mbit"]`, "Incorrect attribute value type"},
		{`delay = "0s"`, ""},
		{`delay = "59.999s"`, ""},
		{`delay = "1m"`, "less than 60s"},
		{`delay = "-1ns"`, "must not be negative"},
		{`delay = "20 ms"`, "not a duration"},
		{`loss = "0%"`, ""},
		{`loss = "100%"`, ""},
		{`loss = "100.5%"`, "from 0% to 100%"},
	}
	for _, tt := range tests {
		errs := errorsOf(t, lab(tt.attr), Options{})
		if tt.err == "" && len(errs) > 0 || tt.err != "" && (len(errs) != 1 || !strings.Contains(errs[0], tt.err)) {
			t.Errorf("%s: errors %q, want %q", tt.attr, errs, tt.err)
		}
	}
}
