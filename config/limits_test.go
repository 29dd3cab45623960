package config

import (
	"strings"
	"testing"
)

// memory and cpus: decoded into bytes and a CPU quota; bad values are
// diagnostics at the argument's value (line 11 of writeImageLab's lab).
func TestContainerLimits(t *testing.T) {
	for args, want := range map[string]ContainerLimits{
		``:                            {},
		`memory = "256MiB"`:           {Memory: 256 << 20},
		`memory = "1.5GiB"`:           {Memory: 1536 << 20},
		`memory = "100MB"`:            {Memory: 100e6},
		"cpus = 0.5":                  {CPUQuota: 50000},
		"cpus = 2\nmemory = \"6MiB\"": {Memory: 6 << 20, CPUQuota: 200000},
		"cpus = 0.3":                  {CPUQuota: 30000},
		"cpus = 0.01":                 {CPUQuota: 1000},
	} {
		dir := writeImageLab(t, "image = \"docker-archive:images/good.tar\"\n"+args)
		lab, _, diags := Load(dir, Options{})
		if diags.HasErrors() {
			t.Fatalf("%s: %v", args, diags)
		}
		if got := lab.Containers()[0].Image.Limits; got != want {
			t.Errorf("%q: %+v, wants %+v", args, got, want)
		}
	}
	for args, want := range map[string]string{
		`memory = "256M"`:    `"256M" is not an amount like "256MiB"`,
		`memory = "256"`:     `is not an amount`,
		`memory = "-1MiB"`:   `is not an amount`,
		`memory = "1.5B"`:    `not a whole number of bytes`,
		`memory = "1MiB"`:    `must be at least 6MiB`,
		`memory = "2000TiB"`: `more than 1PiB`,
		`cpus = 0`:           `must be from 0.01 to 1024`,
		`cpus = 0.001`:       `must be from 0.01 to 1024`,
		`cpus = 2000`:        `must be from 0.01 to 1024`,
		`cpus = 0.123456`:    `more than 5 decimals`,
		`cpus = "half"`:      `a number is required`,
	} {
		dir := writeImageLab(t, "image = \"docker-archive:images/good.tar\"\n"+args)
		_, _, diags := Load(dir, Options{})
		if !diags.HasErrors() || !strings.Contains(diags.Error(), want) {
			t.Errorf("%s: diagnostics %v, want %q", args, diags, want)
			continue
		}
		for _, d := range diags {
			if d.Subject == nil || d.Subject.Start.Line != 11 || d.Subject.Start.Column != strings.Index(args, "=")+3 {
				t.Errorf("%s: diagnostic %q is not at the argument: %v", args, d.Summary, d.Subject)
			}
		}
	}
	// Without an image there is no runc to limit.
	dir := writeImageLab(t, `memory = "256MiB"`)
	if _, _, diags := Load(dir, Options{}); !diags.HasErrors() || !strings.Contains(diags.Error(), "only a container with image") {
		t.Errorf("memory without an image: %v", diags)
	}
}
