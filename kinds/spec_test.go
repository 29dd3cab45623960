package kinds_test

import (
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/kinds"
)

// everyLab expands every lab there is: labs/, the labs of config's,
// acceptance's and these tests, with the variables those need.
func everyLab(t *testing.T) map[string][]*kinds.Resource {
	t.Helper()
	vars := map[string]map[string]string{
		"../config/testdata/valid/variables": {"e": "1", "g": "x"},
		"../acceptance/testdata/ssh-docker":  {"addresses": `["192.168.50.11", "192.168.50.12"]`, "key": "/root/.ssh/id_ed25519", "netns": "/run/netns/machines"},
		// Its image is built by make images: a tiny one stands in.
		"../labs/docker": {"image": "docker-archive:../../config/testdata/valid/images/images/tiny.tar"},
	}
	var dirs []string
	for _, g := range []string{"../labs/*", "../config/testdata/valid/*", "../acceptance/testdata/*", "testdata/*/*"} {
		m, err := filepath.Glob(g)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range m {
			// acceptance/testdata/images*'s and podimages' archives are built by their tests
			// (config/testdata/valid/images has the same members).
			if fi, err := os.Stat(d); err == nil && fi.IsDir() && !strings.HasPrefix(d, "../acceptance/testdata/images") && d != "../acceptance/testdata/podimages" {
				dirs = append(dirs, d)
			}
		}
	}
	out := map[string][]*kinds.Resource{}
	add := func(name, dir string, v map[string]string) {
		lab, _, diags := config.Load(dir, config.Options{Vars: v})
		if diags.HasErrors() {
			t.Fatalf("%s: %v", dir, diags)
		}
		out[name] = kinds.Expand(lab)
	}
	for _, d := range dirs {
		add(d, d, vars[d])
	}
	add("../labs/kubernetes-flat (host-gw)", "../labs/kubernetes-flat", map[string]string{"backend": "host-gw"})
	if len(out) < 20 {
		t.Fatalf("only %d labs found", len(out))
	}
	return out
}

// TestSpecRoundTrip: every resource of every lab goes from its attributes
// to its kind's typed spec and back unchanged, both directly and through
// the JSON of the state file (Encode, marshal, Decode). A kind whose spec
// drops, adds or rewrites an attribute fails here. Every member of every
// kind's spec must be exercised by some lab, so that none goes untested.
func TestSpecRoundTrip(t *testing.T) {
	seen := map[string]map[string]bool{} // kind -> spec members seen
	for lab, rs := range everyLab(t) {
		for _, r := range rs {
			k, err := kinds.Get(r.Kind)
			if err != nil {
				t.Fatalf("%s: %s: %v", lab, r.Addr, err)
			}
			spec, err := k.Spec(r.Addr, r.Attrs)
			if err != nil {
				t.Errorf("%s: %v", lab, err)
				continue
			}
			if got := spec.Attrs(); !maps.Equal(got, r.Attrs) {
				t.Errorf("%s: %s: attributes -> spec -> attributes:\n got %v\nwant %v", lab, r.Addr, got, r.Attrs)
			}
			enc, err := kinds.StateCodec.Encode(r.Kind, r.Addr, r.Attrs)
			if err != nil {
				t.Fatalf("%s: Encode: %v", lab, err)
			}
			b, err := jsonv2.Marshal(enc)
			if err != nil {
				t.Fatalf("%s: %s: %v", lab, r.Addr, err)
			}
			got, err := kinds.StateCodec.Decode(r.Kind, r.Addr, b)
			if err != nil {
				t.Errorf("%s: Decode of %s: %v", lab, b, err)
			} else if !maps.Equal(got, r.Attrs) {
				t.Errorf("%s: %s: through the state file:\n got %v\nwant %v\nspec %s", lab, r.Addr, got, r.Attrs, b)
			}
			var members map[string]any
			if err := jsonv2.Unmarshal(b, &members); err != nil {
				t.Fatal(err)
			}
			if seen[r.Kind] == nil {
				seen[r.Kind] = map[string]bool{}
			}
			for m := range members {
				seen[r.Kind][m] = true
			}
		}
	}
	for _, k := range kinds.All() {
		name := k.Info().Name
		var missing []string
		for _, m := range specMembers(k.NewSpec()) {
			if !seen[name][m] {
				missing = append(missing, m)
			}
		}
		// The guest kinds share a spec; these members are others' (and
		// the kind's parser refuses them).
		missing = slices.DeleteFunc(missing, func(m string) bool {
			isolation := m == "mount_ns" || m == "uts_ns" || m == "hostname" || m == "private_dirs" || m == "files" ||
				slices.Contains([]string{"image", "image_archive", "image_digest", "runc_id", "bundle", "log", "owner", "args", "env",
					"workdir", "user", "caps", "privileged", "cgroup", "memory", "cpus", "mounts"}, m) // image containers'
			// A pod's image container has no eth0 of its own: it joins its pod's.
			eth0 := slices.Contains([]string{"bridge", "bridge_ifname", "address", "bits", "gateway", "mtu", "veth", "ports", "rate", "delay", "loss"}, m)
			return name != kinds.VM && m == "mode" || name != kinds.Pod && m == "network" || name == kinds.Pod && m == "ports" ||
				name != kinds.Container && isolation || name == kinds.PodContainer && eth0
		})
		if len(missing) > 0 {
			t.Errorf("%s: no lab exercises %s", name, strings.Join(missing, ", "))
		}
	}
}

// specMembers are the JSON member names of a spec type.
func specMembers(s kinds.Spec) []string {
	return structMembers(reflect.TypeOf(s).Elem())
}

func structMembers(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case f.Anonymous && f.Type.Kind() == reflect.Struct:
			out = append(out, structMembers(f.Type)...) // its fields are the spec's
		case f.IsExported() && name != "-":
			out = append(out, name)
		}
	}
	return out
}
