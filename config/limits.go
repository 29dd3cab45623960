package config

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
)

// ContainerLimits are an image container's cgroup limits: Memory in
// bytes, CPUQuota in µs of CPU time per CPUPeriod (cpus x CPUPeriod); 0 is
// no limit.
type ContainerLimits struct {
	Memory   int64
	CPUQuota int64
}

// CPUPeriod is the CFS period (µs) cpus are counted in: cpus = 0.5 is a
// quota of 50000 µs per 100000.
const CPUPeriod = 100000

// MinMemory is the smallest memory limit: below it runc's own setup of
// the container is killed for memory (Docker refuses less than 6MB too).
const MinMemory = 6 << 20

var memoryRe = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*(B|kB|KB|KiB|MB|MiB|GB|GiB|TB|TiB)$`)

var memoryUnits = map[string]float64{"B": 1, "kB": 1e3, "KB": 1e3, "KiB": 1 << 10, "MB": 1e6, "MiB": 1 << 20, "GB": 1e9,
	"GiB": 1 << 30, "TB": 1e12, "TiB": 1 << 40}

// ParseMemory reads an amount of memory like "256MiB" or "1.5GB": a
// number and a unit (B, kB, MB, GB, TB or KiB, MiB, GiB, TiB); it must come
// to a whole number of bytes.
func ParseMemory(s string) (int64, error) {
	m := memoryRe.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not an amount like \"256MiB\": a number and one of B, kB, MB, GB, TB, KiB, MiB, GiB, TiB", s)
	}
	n, _, err := big.ParseFloat(m[1], 10, 200, big.ToNearestEven)
	if err != nil {
		return 0, fmt.Errorf("%q: %v", s, err)
	}
	n.Mul(n, new(big.Float).SetFloat64(memoryUnits[m[2]]))
	if !n.IsInt() {
		return 0, fmt.Errorf("%q is not a whole number of bytes", s)
	}
	b, acc := n.Int64()
	if acc != big.Exact || b > 1<<50 {
		return 0, fmt.Errorf("%q is more than 1PiB", s)
	}
	return b, nil
}

// decodeLimits reads an image container's memory and cpus.
func (d *dec) decodeLimits(addr string) ContainerLimits {
	var lim ContainerLimits
	if s, ok := d.str("memory"); ok {
		b, err := ParseMemory(s)
		switch {
		case err != nil:
			d.fail("memory", "Invalid memory", "The memory of %s: %v.", addr, err)
		case b < MinMemory:
			d.fail("memory", "Invalid memory", "The memory of %s must be at least 6MiB, got %q: less does not leave room for starting it.", addr, s)
		default:
			lim.Memory = b
		}
	}
	if bf, ok := d.number("cpus"); ok {
		c, _ := bf.Float64()
		q := math.Round(c * CPUPeriod)
		switch {
		case q < 1000 || c > 1024:
			d.fail("cpus", "Invalid cpus", "The cpus of %s must be from 0.01 to 1024, got %s.", addr, strconv.FormatFloat(c, 'f', -1, 64))
		case math.Abs(q-c*CPUPeriod) > 1e-6:
			d.fail("cpus", "Invalid cpus", "The cpus of %s has more than 5 decimals (%s): it is counted in µs per 100ms.", addr, strconv.FormatFloat(c, 'f', -1, 64))
		default:
			lim.CPUQuota = int64(q)
		}
	}
	return lim
}
