package check

import (
	"net/netip"
	"testing"

	"github.com/labnet-dev/labnet/config"
)

// TestJudgeRoute reads `ip -j -4 route show exact` as a real kernel
// prints it (multipath, one gateway, a connected route, none).
func TestJudgeRoute(t *testing.T) {
	const multi = `[{"dst":"10.0.4.0/24","flags":[],"nexthops":[{"gateway":"10.0.12.2","dev":"va","weight":1,"flags":[]},{"gateway":"10.0.13.2","dev":"vc","weight":1,"flags":[]}]}]`
	const one = `[{"dst":"10.0.5.0/24","gateway":"10.0.12.2","dev":"va","flags":[]}]`
	const connected = `[{"dst":"10.0.12.0/30","dev":"va","protocol":"kernel","scope":"link","prefsrc":"10.0.12.1","flags":[]}]`
	ip := netip.MustParseAddr
	for _, tt := range []struct {
		name     string
		out      string
		hops     int
		via      []netip.Addr
		observed string
		detail   string
	}{
		{"two paths, two wanted", multi, 2, nil, "reach", "10.0.4.0/24 via 10.0.12.2 dev va, 10.0.13.2 dev vc"},
		{"two paths, one wanted", multi, 1, nil, "blocked", "10.0.4.0/24 via 10.0.12.2 dev va, 10.0.13.2 dev vc: 2 next hops, wants 1"},
		{"via one of them", multi, 0, []netip.Addr{ip("10.0.13.2")}, "reach", "10.0.4.0/24 via 10.0.12.2 dev va, 10.0.13.2 dev vc"},
		{"via another", multi, 0, []netip.Addr{ip("10.0.14.2")}, "blocked", "10.0.4.0/24 via 10.0.12.2 dev va, 10.0.13.2 dev vc: not via 10.0.14.2"},
		{"one path", one, 1, []netip.Addr{ip("10.0.12.2")}, "reach", "10.0.4.0/24 via 10.0.12.2 dev va"},
		{"one path, two wanted", one, 2, nil, "blocked", "10.0.4.0/24 via 10.0.12.2 dev va: 1 next hops, wants 2"},
		{"a gateway is not a prefix of another", one, 0, []netip.Addr{ip("10.0.12.20")}, "blocked", "10.0.4.0/24 via 10.0.12.2 dev va: not via 10.0.12.20"},
		{"connected", connected, 1, nil, "reach", "10.0.4.0/24 via dev va"},
		{"no route", `[]`, 0, nil, "blocked", "no route to 10.0.4.0/24"},
		{"not json", `Error: any valid prefix is expected`, 0, nil, "blocked", "ip route: invalid character 'E' looking for beginning of value"},
	} {
		c := &config.Check{Route: netip.MustParsePrefix("10.0.4.0/24"), Nexthops: tt.hops, Via: tt.via}
		obs, detail := judgeRoute(c, []byte(tt.out))
		if obs != tt.observed || detail != tt.detail {
			t.Errorf("%s: %s %q, want %s %q", tt.name, obs, detail, tt.observed, tt.detail)
		}
	}
}
