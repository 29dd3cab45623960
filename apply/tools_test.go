package apply

import (
	"strings"
	"testing"

	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/kinds"
	"github.com/labnet-dev/labnet/plan"
)

func TestCheckTools(t *testing.T) {
	web := &kinds.Resource{Addr: "container.web", Kind: kinds.Container, Host: "host.a",
		Attrs: kinds.Attrs{"netns": "ln.l.web", "runc_id": "labnet.l.web", "rate": "1mbit"}}
	plain := &kinds.Resource{Addr: "container.db", Kind: kinds.Container, Host: "host.b", Attrs: kinds.Attrs{"netns": "ln.l.db"}}
	nat := &kinds.Resource{Addr: "nat_table.a", Kind: kinds.NatTable, Host: "host.a", Attrs: kinds.Attrs{}}
	tests := []struct {
		name    string
		missing map[string][]string
		want    []string // lines of the error; none: no error
	}{
		{"nothing missing", map[string][]string{"host.a": nil, "host.b": nil}, nil},
		{"runc and tc missing where an image container is shaped", map[string][]string{"host.a": {"runc", "tc"}}, []string{
			"host.a has no runc (Debian package runc), which container.web needs",
			"host.a has no tc (Debian package iproute2), which container.web needs"}},
		{"runc missing where no resource needs it", map[string][]string{"host.b": {"runc"}}, nil},
		{"nft missing for the nat table", map[string][]string{"host.a": {"nft"}}, []string{
			"host.a has no nft (Debian package nftables), which nat_table.a needs"}},
		{"a host not read is not judged", map[string][]string{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := plan.Observations{Kernel: map[string]*hostnet.Observed{}}
			for h, m := range tt.missing {
				obs.Kernel[h] = &hostnet.Observed{Missing: m}
			}
			err := checkTools([]*kinds.Resource{web, plain, nat}, obs)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("error %v, want none", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			for _, line := range tt.want {
				if !strings.Contains(err.Error(), line) {
					t.Errorf("error %q lacks %q", err, line)
				}
			}
		})
	}
}
