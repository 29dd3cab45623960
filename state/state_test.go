package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// attrsCodec is a codec of no kind: a spec is the attributes as a JSON
// object. state's tests exercise the file with it; kinds' tests exercise
// the typed specs.
type attrsCodec struct{}

func (attrsCodec) Encode(kind, addr string, a map[string]string) (any, error) {
	if a["broken"] != "" {
		return nil, fmt.Errorf("%s: attribute %q (%q): refused", addr, "broken", a["broken"])
	}
	return a, nil
}

func (attrsCodec) Decode(kind, addr string, spec []byte) (map[string]string, error) {
	var a map[string]string
	if err := json.Unmarshal(spec, &a); err != nil {
		return nil, fmt.Errorf("%s: %w", addr, err)
	}
	if a["broken"] != "" {
		return nil, fmt.Errorf("%s: attribute %q (%q): refused", addr, "broken", a["broken"])
	}
	return a, nil
}

var tc attrsCodec

func sample() *State {
	s := New("docker")
	s.Put(&Resource{Addr: "network.lan", Kind: "network", Attrs: map[string]string{"cidr": "192.168.50.0/24"}})
	s.Put(&Resource{Addr: "host.node[0]", Kind: "host", Host: "host.node[0]", Attrs: map[string]string{"name": "node-0"},
		Record: json.RawMessage(`{"pid":4242,"ssh_addr":"192.168.50.11:22"}`), Deps: []string{"network.lan"}})
	s.Put(&Resource{Addr: "container.web[0]", Kind: "container", Host: "host.node[0]", Attrs: map[string]string{"address": "172.17.0.2", "ports": ""},
		Deps: []string{"bridge.docker0[0]", "host.node[0]"}, Tainted: true})
	return s
}

func TestNew(t *testing.T) {
	a, b := New("x"), New("x")
	if a.Version != Version || a.Lab != "x" || a.Serial != 0 || len(a.Resources) != 0 {
		t.Errorf("New = %+v", a)
	}
	if len(a.Lineage) != 32 || a.Lineage == b.Lineage {
		t.Errorf("lineages %q and %q: want two different 32-hex-digit values", a.Lineage, b.Lineage)
	}
}

func TestPutGetRemove(t *testing.T) {
	s := sample()
	var addrs []string
	for _, r := range s.Resources {
		addrs = append(addrs, r.Addr)
	}
	if want := []string{"container.web[0]", "host.node[0]", "network.lan"}; !reflect.DeepEqual(addrs, want) {
		t.Errorf("resources = %v, want sorted %v", addrs, want)
	}
	r := &Resource{Addr: "host.node[0]", Kind: "host", Attrs: map[string]string{"name": "renamed"}}
	s.Put(r)
	if len(s.Resources) != 3 || s.Get("host.node[0]") != r {
		t.Errorf("Put of an existing address did not replace it")
	}
	if s.Get("nope") != nil {
		t.Errorf("Get of a missing address is not nil")
	}
	s.Remove("host.node[0]")
	s.Remove("nope")
	if s.Get("host.node[0]") != nil || len(s.Resources) != 2 {
		t.Errorf("Remove left %v", s.Resources)
	}
	s.Remove("network.lan", "container.web[0]", "network.lan")
	if len(s.Resources) != 0 {
		t.Errorf("Remove of several left %v", s.Resources)
	}
}

func TestPutKeepsOrderAndFinds(t *testing.T) {
	s := New("lab")
	var want []string
	for _, i := range rand.Perm(300) {
		addr := fmt.Sprintf("container.c[%d]", i)
		s.Put(&Resource{Addr: addr, Kind: "container"})
		want = append(want, addr)
	}
	slices.Sort(want)
	var got []string
	for _, r := range s.Resources {
		got = append(got, r.Addr)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("resources not sorted after shuffled Puts:\n%v", got)
	}
	for _, a := range want {
		if r := s.Get(a); r == nil || r.Addr != a {
			t.Errorf("Get(%s) = %v", a, r)
		}
	}
	if s.Get("container.c[300]") != nil || s.Get("") != nil || s.Get("zzz") != nil {
		t.Error("Get found an address that was never put")
	}
}

func TestLoadSortsAHandEditedState(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	src := `{"version":1,"serial":1,"lineage":"l","lab":"x","resources":[` +
		`{"addr":"network.lan","kind":"network","attrs":{}},` +
		`{"addr":"host.h","kind":"host","attrs":{}},` +
		`{"addr":"container.a","kind":"container","attrs":{}}]}`
	if err := os.WriteFile(filepath.Join(d.Path, "state.json"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := d.Load(tc)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"network.lan", "host.h", "container.a"} {
		if s.Get(a) == nil {
			t.Errorf("Get(%s) = nil after loading an unsorted state", a)
		}
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	d := Dir{Path: filepath.Join(t.TempDir(), ".labnet")}
	if s, err := d.Load(tc); s != nil || err != nil {
		t.Fatalf("Load of nothing = %v, %v; want nil, nil", s, err)
	}
	s := sample()
	if err := d.Save(s, tc); err != nil {
		t.Fatal(err)
	}
	if s.Serial != 1 {
		t.Errorf("serial after first save = %d, want 1", s.Serial)
	}
	got, err := d.Load(tc)
	if err != nil {
		t.Fatal(err)
	}
	// Compared as compact JSON: a record is a json.RawMessage, and
	// MarshalIndent re-indents it in the file.
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(s)
	if string(a) != string(b) {
		t.Errorf("round trip:\n got %s\nwant %s", a, b)
	}
	var rec struct {
		PID     int    `json:"pid"`
		SSHAddr string `json:"ssh_addr"`
	}
	if err := json.Unmarshal(got.Get("host.node[0]").Record, &rec); err != nil || rec.PID != 4242 || rec.SSHAddr != "192.168.50.11:22" {
		t.Errorf("record = %+v, %v", rec, err)
	}
	if !got.Get("container.web[0]").Tainted || got.Get("host.node[0]").Tainted {
		t.Errorf("tainted flags lost")
	}
	for i := 2; i <= 4; i++ {
		if err := d.Save(got, tc); err != nil {
			t.Fatal(err)
		}
		if got.Serial != int64(i) {
			t.Errorf("serial = %d, want %d", got.Serial, i)
		}
		back, err := d.Load(tc)
		if err != nil || back.Serial != int64(i) || back.Lineage != s.Lineage {
			t.Errorf("reloaded serial %d lineage %q err %v", back.Serial, back.Lineage, err)
		}
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(d.Path)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{".gitignore", "state.json", "state.json.backup"}; !reflect.DeepEqual(names, want) {
		t.Errorf("dir holds %v, want %v", names, want)
	}
	if b, _ := os.ReadFile(filepath.Join(d.Path, ".gitignore")); string(b) != "*\n" {
		t.Errorf(".gitignore = %q", b)
	}
}

func TestBackupHoldsPreviousVersion(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	s := New("docker")
	s.Put(&Resource{Addr: "a", Kind: "network", Attrs: map[string]string{"v": "1"}})
	if err := d.Save(s, tc); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(d.Path, "state.json.backup")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a first save made a backup (%v)", err)
	}
	first, _ := os.ReadFile(filepath.Join(d.Path, "state.json"))
	s.Get("a").Attrs["v"] = "2"
	if err := d.Save(s, tc); err != nil {
		t.Fatal(err)
	}
	backup, err := os.ReadFile(filepath.Join(d.Path, "state.json.backup"))
	if err != nil {
		t.Fatal(err)
	}
	if string(backup) != string(first) {
		t.Errorf("backup:\n%s\nwant the first version:\n%s", backup, first)
	}
	var b struct {
		Serial    int64
		Resources []struct{ Spec map[string]string }
	}
	if err := json.Unmarshal(backup, &b); err != nil || b.Serial != 1 || len(b.Resources) != 1 || b.Resources[0].Spec["v"] != "1" {
		t.Errorf("backup %+v, err %v", b, err)
	}
	// The backup is a copy, not the same file: a third save moves it on.
	second, _ := os.ReadFile(filepath.Join(d.Path, "state.json"))
	s.Get("a").Attrs["v"] = "3"
	if err := d.Save(s, tc); err != nil {
		t.Fatal(err)
	}
	backup, _ = os.ReadFile(filepath.Join(d.Path, "state.json.backup"))
	if string(backup) != string(second) {
		t.Errorf("after a third save the backup is not the second version")
	}
	cur, _ := d.Load(tc)
	if cur.Serial != 3 || cur.Get("a").Attrs["v"] != "3" {
		t.Errorf("current = serial %d %v", cur.Serial, cur.Get("a").Attrs)
	}
	// Remove keeps the last version as the backup.
	last, _ := os.ReadFile(filepath.Join(d.Path, "state.json"))
	if err := d.Remove(); err != nil {
		t.Fatal(err)
	}
	if s, err := d.Load(tc); s != nil || err != nil {
		t.Errorf("Load after Remove = %v, %v", s, err)
	}
	backup, _ = os.ReadFile(filepath.Join(d.Path, "state.json.backup"))
	if string(backup) != string(last) {
		t.Errorf("Remove did not keep the last version as backup")
	}
	if err := d.Remove(); err != nil {
		t.Errorf("second Remove: %v", err)
	}
}

func TestModes(t *testing.T) {
	d := Dir{Path: filepath.Join(t.TempDir(), "a", ".labnet")}
	s := sample()
	for i := 0; i < 2; i++ { // the second save makes the backup
		if err := d.Save(s, tc); err != nil {
			t.Fatal(err)
		}
	}
	check := func(path string, want os.FileMode) {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode %v, want %v", path, got, want)
		}
	}
	check(d.Path, 0o700)
	check(filepath.Join(d.Path, "state.json"), 0o600)
	check(filepath.Join(d.Path, "state.json.backup"), 0o600)
	check(filepath.Join(d.Path, ".gitignore"), 0o600)
	// An existing directory with loose permissions is tightened.
	loose := Dir{Path: t.TempDir()}
	if err := os.Chmod(loose.Path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := loose.Save(New("x"), tc); err != nil {
		t.Fatal(err)
	}
	check(loose.Path, 0o700)
	unlock, err := loose.Lock("plan")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	check(filepath.Join(loose.Path, "lock"), 0o600)
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"corrupt", `{"version":1,"serial":`, "state.json.backup"},
		{"future version", `{"version":3,"serial":3,"lab":"x"}`, "state version 3 is newer than this labnet reads (up to 2)"},
		{"future version with new members", `{"version":3,"serial":3,"lab":"x","colour":"red"}`, "state version 3 is newer"},
		{"no version", `{"serial":3,"lab":"x"}`, "state version 0, this labnet reads versions 1 to 2"},
		{"unknown member", `{"version":2,"serial":3,"lab":"x","colour":"red"}`, `unknown object member name "colour"`},
		{"unknown resource member", `{"version":2,"serial":3,"lab":"x","resources":[{"addr":"a","kind":"k","spec":{},"colour":1}]}`, `"colour"`},
		{"version 1 attrs in version 2", `{"version":2,"serial":3,"lab":"x","resources":[{"addr":"network.a","kind":"k","attrs":{}}]}`, `network.a: "attrs" is version 1's; version 2 holds "spec"`},
		{"version 2 spec in version 1", `{"version":1,"serial":3,"lab":"x","resources":[{"addr":"network.a","kind":"k","spec":{}}]}`, `network.a: "spec" is version 2's; version 1 holds "attrs"`},
		{"no spec", `{"version":2,"serial":3,"lab":"x","resources":[{"addr":"network.a","kind":"k"}]}`, `network.a: no spec`},
		{"a spec the codec refuses", `{"version":2,"serial":3,"lab":"x","resources":[{"addr":"network.a","kind":"k","spec":{"broken":"yes"}}]}`,
			`state.json: network.a: attribute "broken" ("yes"): refused (fix the value in`},
		{"version 1 attributes the codec refuses", `{"version":1,"serial":3,"lab":"x","resources":[{"addr":"network.a","kind":"k","attrs":{"broken":"yes"}}]}`,
			`state.json: upgrading from version 1: network.a: attribute "broken" ("yes"): refused`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Dir{Path: t.TempDir()}
			if err := os.WriteFile(filepath.Join(d.Path, "state.json"), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := d.Load(tc)
			if err == nil || !strings.Contains(err.Error(), tt.want) || s != nil {
				t.Errorf("Load = %v, %v; want an error mentioning %q", s, err, tt.want)
			}
		})
	}
}

// Which lab a state belongs to is the caller's concern: Load returns what
// is there.
func TestLoadDoesNotCheckLab(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	if err := d.Save(New("other-lab"), tc); err != nil {
		t.Fatal(err)
	}
	s, err := d.Load(tc)
	if err != nil || s.Lab != "other-lab" {
		t.Errorf("Load = %+v, %v", s, err)
	}
}

func TestLock(t *testing.T) {
	d := Dir{Path: filepath.Join(t.TempDir(), ".labnet")}
	if info, err := d.ReadLock(); info != nil || err != nil {
		t.Errorf("ReadLock unlocked = %v, %v", info, err)
	}
	before := time.Now().Add(-time.Second)
	unlock, err := d.Lock("apply")
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	info, err := d.ReadLock()
	if err != nil || info == nil {
		t.Fatalf("ReadLock = %v, %v", info, err)
	}
	if info.PID != os.Getpid() || info.Hostname != host || info.Op != "apply" || info.Created.Before(before) || info.Created.After(time.Now().Add(time.Second)) {
		t.Errorf("lock info = %+v", info)
	}
	// A second lock is refused and names the holder; the holder is alive.
	_, err = d.Lock("destroy")
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second Lock = %v, want *LockedError", err)
	}
	if le.Info.PID != os.Getpid() || le.Info.Op != "apply" || le.Stale || le.Path != filepath.Join(d.Path, "lock") {
		t.Errorf("LockedError = %+v", le)
	}
	if msg := le.Error(); !strings.Contains(msg, "labnet apply") || !strings.Contains(msg, host) || strings.Contains(msg, "stale") {
		t.Errorf("message %q", msg)
	}
	unlock()
	if info, _ := d.ReadLock(); info != nil {
		t.Errorf("lock still held after unlock: %+v", info)
	}
	unlock2, err := d.Lock("plan")
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	unlock2()
}

func writeLock(t *testing.T, d Dir, info LockInfo) {
	t.Helper()
	if err := d.Ensure(); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(info)
	if err := os.WriteFile(filepath.Join(d.Path, "lock"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// deadPID is the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestStaleLock(t *testing.T) {
	host, _ := os.Hostname()
	tests := []struct {
		name  string
		info  LockInfo
		stale bool
	}{
		{"dead process on this host", LockInfo{PID: deadPID(t), Hostname: host, Op: "apply"}, true},
		{"dead process on another host", LockInfo{PID: deadPID(t), Hostname: host + "-elsewhere", Op: "apply"}, false},
		{"live labnet (this test) on this host", LockInfo{PID: os.Getpid(), Hostname: host, Op: "apply"}, false},
		{"no pid", LockInfo{PID: 0, Hostname: host, Op: "apply"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Dir{Path: t.TempDir()}
			writeLock(t, d, tt.info)
			_, err := d.Lock("plan")
			var le *LockedError
			if !errors.As(err, &le) {
				t.Fatalf("Lock = %v, want *LockedError", err)
			}
			if le.Stale != tt.stale {
				t.Errorf("Stale = %v, want %v", le.Stale, tt.stale)
			}
			if got := strings.Contains(le.Error(), "force-unlock"); got != tt.stale {
				t.Errorf("message %q mentions force-unlock: %v", le.Error(), got)
			}
			// A stale lock is reported, never taken over silently.
			if info, _ := d.ReadLock(); info == nil || info.PID != tt.info.PID {
				t.Errorf("the lock was changed: %+v", info)
			}
			if err := d.ForceUnlock(); err != nil {
				t.Fatal(err)
			}
			unlock, err := d.Lock("plan")
			if err != nil {
				t.Fatalf("Lock after ForceUnlock: %v", err)
			}
			unlock()
		})
	}
}

func TestForceUnlock(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	if err := d.ForceUnlock(); err != nil {
		t.Errorf("ForceUnlock with no lock: %v", err)
	}
	if err := os.WriteFile(filepath.Join(d.Path, "lock"), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := d.Lock("apply")
	if err == nil || !strings.Contains(err.Error(), "force-unlock") {
		t.Errorf("Lock over an unreadable lock = %v", err)
	}
	if err := d.ForceUnlock(); err != nil {
		t.Fatal(err)
	}
	unlock, err := d.Lock("apply")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
}

// BenchmarkPutGet is what an apply of 1,000 containers does to the state:
// each is put tainted, its record looked up, then put again.
func BenchmarkPutGet(b *testing.B) {
	for b.Loop() {
		s := New("lab")
		for i := range 1000 {
			addr := fmt.Sprintf("container.c[%d]", i)
			s.Put(&Resource{Addr: addr, Kind: "container", Tainted: true})
			_ = s.Get(addr)
			s.Put(&Resource{Addr: addr, Kind: "container"})
		}
	}
}

// TestSaveRefusedWritesNothing: a resource the codec cannot encode stops
// Save before the file is touched, and the serial stays.
func TestSaveRefusedWritesNothing(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	s := sample()
	if err := d.Save(s, tc); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(d.Path, "state.json"))
	s.Get("network.lan").Attrs["broken"] = "yes"
	err := d.Save(s, tc)
	if err == nil || err.Error() != `state: network.lan: attribute "broken" ("yes"): refused` {
		t.Errorf("Save = %v", err)
	}
	after, _ := os.ReadFile(filepath.Join(d.Path, "state.json"))
	if s.Serial != 1 || string(after) != string(before) {
		t.Errorf("a refused save changed serial to %d or the file", s.Serial)
	}
	if _, err := os.Stat(filepath.Join(d.Path, "state.json.backup")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused save made a backup (%v)", err)
	}
}

// TestUpgradeV1: a version 1 file loads through the codec (attributes
// encoded, then decoded as a version 2 file's spec would be), and the next
// save writes version 2 with the version 1 file as its backup.
func TestUpgradeV1(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	v1 := `{"version":1,"serial":4,"lineage":"l","lab":"x","resources":[` +
		`{"addr":"host.h","kind":"host","host":"host.h","attrs":{"name":"h"},"record":{"pid":7},"deps":["network.lan"],"tainted":true}]}`
	if err := os.WriteFile(filepath.Join(d.Path, "state.json"), []byte(v1), 0o600); err != nil {
		t.Fatal(err)
	}
	var calls []string
	s, err := d.Load(recordingCodec{&calls})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"encode host.h", "decode host.h {\"name\":\"h\"}"}; !slices.Equal(calls, want) {
		t.Errorf("codec calls %q, want %q", calls, want)
	}
	r := s.Get("host.h")
	if s.Version != Version || s.Serial != 4 || r.Attrs["name"] != "h" || string(r.Record) != `{"pid":7}` || !r.Tainted || !slices.Equal(r.Deps, []string{"network.lan"}) {
		t.Errorf("upgraded %+v %+v", s, r)
	}
	if err := d.Save(s, tc); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(d.Path, "state.json"))
	want := `{
  "version": 2,
  "serial": 5,
  "lineage": "l",
  "lab": "x",
  "resources": [
    {
      "addr": "host.h",
      "kind": "host",
      "host": "host.h",
      "spec": {
        "name": "h"
      },
      "record": {
        "pid": 7
      },
      "deps": [
        "network.lan"
      ],
      "tainted": true
    }
  ]
}
`
	if string(b) != want {
		t.Errorf("saved\n%s\nwant\n%s", b, want)
	}
	if bk, _ := os.ReadFile(filepath.Join(d.Path, "state.json.backup")); string(bk) != v1 {
		t.Errorf("backup %s, want the version 1 file", bk)
	}
}

// recordingCodec is attrsCodec noting its calls.
type recordingCodec struct{ calls *[]string }

func (c recordingCodec) Encode(kind, addr string, a map[string]string) (any, error) {
	*c.calls = append(*c.calls, "encode "+addr)
	return tc.Encode(kind, addr, a)
}

func (c recordingCodec) Decode(kind, addr string, spec []byte) (map[string]string, error) {
	*c.calls = append(*c.calls, "decode "+addr+" "+string(spec))
	return tc.Decode(kind, addr, spec)
}
