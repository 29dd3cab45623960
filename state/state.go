// Package state keeps what labnet made: a versioned JSON file with serial
// and lineage, written atomically with a backup of the previous version,
// and a lock that names its holder.
package state

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Version of the file format this labnet writes. Version 1 held each
// resource's attributes as flat strings; version 2 holds its kind's typed
// spec. Version 1 files are upgraded as they are read.
const Version = 2

// Codec converts a resource between the flat attributes plan and apply
// diff and the typed spec the file holds for its kind. kinds implements
// it (kinds.StateCodec): state knows no kind.
type Codec interface {
	// Encode is the spec of a resource's attributes, marshalled as JSON
	// into the file; an error names the resource and the attribute.
	Encode(kind, addr string, attrs map[string]string) (any, error)
	// Decode checks a spec read from the file and returns its
	// attributes; an error names the resource and the attribute.
	Decode(kind, addr string, spec []byte) (map[string]string, error)
}

// State of one lab, as plan and apply use it. Its JSON form is the
// version 1 file's layout, and what `labnet show -json` prints.
type State struct {
	Version   int         `json:"version"`
	Serial    int64       `json:"serial"`
	Lineage   string      `json:"lineage"`
	Lab       string      `json:"lab"`
	Resources []*Resource `json:"resources"`
}

// Resource is one applied resource instance.
type Resource struct {
	Addr    string            `json:"addr"`
	Kind    string            `json:"kind"`
	Host    string            `json:"host,omitempty"` // the host it lives on
	Attrs   map[string]string `json:"attrs"`
	Record  json.RawMessage   `json:"record,omitempty"` // provider data for hosts
	Deps    []string          `json:"deps,omitempty"`
	Tainted bool              `json:"tainted,omitempty"`
}

// file is the state file's layout; R is a resource as written
// (fileResource) or as read (readResource).
type file[R any] struct {
	Version   int    `json:"version"`
	Serial    int64  `json:"serial"`
	Lineage   string `json:"lineage"`
	Lab       string `json:"lab"`
	Resources []R    `json:"resources"`
}

// fileResource is a resource in a version 2 file: its spec in place of
// its attributes.
type fileResource struct {
	Addr    string          `json:"addr"`
	Kind    string          `json:"kind"`
	Host    string          `json:"host,omitempty"`
	Spec    any             `json:"spec"`
	Record  json.RawMessage `json:"record,omitempty"`
	Deps    []string        `json:"deps,omitempty"`
	Tainted bool            `json:"tainted,omitzero"`
}

// readResource is a resource of any version: Spec (version 2) or Attrs
// (version 1), so that one pass decodes either.
type readResource struct {
	Addr    string            `json:"addr"`
	Kind    string            `json:"kind"`
	Host    string            `json:"host"`
	Spec    jsontext.Value    `json:"spec"`
	Attrs   map[string]string `json:"attrs"`
	Record  json.RawMessage   `json:"record"`
	Deps    []string          `json:"deps"`
	Tainted bool              `json:"tainted"`
}

// New starts an empty state with a fresh lineage.
func New(lab string) *State {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return &State{Version: Version, Lineage: hex.EncodeToString(b[:]), Lab: lab}
}

// find returns where addr is, or would be inserted, in s.Resources.
// Resources are kept sorted by address (Put, Load), so Get and Put find
// one by binary search: an apply of 1,000 containers calls each ~2,000
// times, and a linear scan (and a sort per Put) made that quadratic.
func (s *State) find(addr string) (int, bool) {
	return slices.BinarySearchFunc(s.Resources, addr, func(r *Resource, a string) int { return strings.Compare(r.Addr, a) })
}

// Get returns the resource at addr or nil.
func (s *State) Get(addr string) *Resource {
	if i, ok := s.find(addr); ok {
		return s.Resources[i]
	}
	return nil
}

// Put adds or replaces a resource, keeping resources sorted by address.
func (s *State) Put(r *Resource) {
	i, ok := s.find(r.Addr)
	if ok {
		s.Resources[i] = r
		return
	}
	s.Resources = slices.Insert(s.Resources, i, r)
}

// Remove deletes the resources at the given addresses, in one pass
// (removing 1,000 one by one moved the slice 1,000 times).
func (s *State) Remove(addrs ...string) {
	gone := make(map[string]bool, len(addrs))
	for _, a := range addrs {
		gone[a] = true
	}
	kept := s.Resources[:0]
	for _, r := range s.Resources {
		if !gone[r.Addr] {
			kept = append(kept, r)
		}
	}
	clear(s.Resources[len(kept):])
	s.Resources = kept
}

// Dir is a lab's state directory (".labnet" in the lab by default).
type Dir struct{ Path string }

func (d Dir) file() string   { return filepath.Join(d.Path, "state.json") }
func (d Dir) backup() string { return filepath.Join(d.Path, "state.json.backup") }
func (d Dir) lock() string   { return filepath.Join(d.Path, "lock") }

// Ensure creates the directory 0700 and a .gitignore that keeps it out of git.
func (d Dir) Ensure() error {
	if err := os.MkdirAll(d.Path, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(d.Path, 0o700); err != nil {
		return err
	}
	gi := filepath.Join(d.Path, ".gitignore")
	if _, err := os.Stat(gi); errors.Is(err, os.ErrNotExist) {
		return os.WriteFile(gi, []byte("*\n"), 0o600)
	}
	return nil
}

// Load reads the state; a missing file gives (nil, nil). Every
// resource's spec goes through c, which checks it: a value broken by hand
// stops here, naming the resource and the attribute. A version 1 file is
// upgraded (upgradeV1); the next Save writes it as version 2.
func (d Dir) Load(c Codec) (*State, error) {
	b, err := os.ReadFile(d.file())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var f file[readResource]
	// encoding/json/v2 (mirrored by go-json-experiment/json until Go 1.27
	// makes it the standard library's) decodes a state twice as fast as
	// encoding/json, on the path of every command of a large lab. A member
	// this labnet does not know is an error, not something to drop.
	if err := jsonv2.Unmarshal(b, &f, jsonv2.RejectUnknownMembers(true)); err != nil {
		// A newer labnet may have added members: say so first.
		var v struct {
			Version int `json:"version"`
		}
		if jsonv2.Unmarshal(b, &v) == nil && v.Version > Version {
			return nil, d.newer(v.Version)
		}
		return nil, fmt.Errorf("%s: %w (the previous version is in %s)", d.file(), err, d.backup())
	}
	s := &State{Version: Version, Serial: f.Serial, Lineage: f.Lineage, Lab: f.Lab, Resources: make([]*Resource, len(f.Resources))}
	switch {
	case f.Version == 1:
		if err := upgradeV1(s, f.Resources, c); err != nil {
			return nil, fmt.Errorf("%s: upgrading from version 1: %w%s", d.file(), err, d.fixHint())
		}
	case f.Version == Version:
		for i, fr := range f.Resources {
			if fr.Attrs != nil {
				return nil, fmt.Errorf("%s: %s: \"attrs\" is version 1's; version %d holds \"spec\"", d.file(), fr.Addr, Version)
			}
			if len(fr.Spec) == 0 {
				return nil, fmt.Errorf("%s: %s: no spec", d.file(), fr.Addr)
			}
			a, err := c.Decode(fr.Kind, fr.Addr, fr.Spec)
			if err != nil {
				return nil, fmt.Errorf("%s: %w%s", d.file(), err, d.fixHint())
			}
			s.Resources[i] = fr.resource(a)
		}
	case f.Version > Version:
		return nil, d.newer(f.Version)
	default:
		return nil, fmt.Errorf("%s: state version %d, this labnet reads versions 1 to %d", d.file(), f.Version, Version)
	}
	// labnet writes it sorted; a state edited by hand may not be.
	slices.SortStableFunc(s.Resources, func(a, b *Resource) int { return strings.Compare(a.Addr, b.Addr) })
	return s, nil
}

func (d Dir) fixHint() string {
	return " (fix the value in " + d.file() + "; the previous version is in " + d.backup() + ")"
}

func (d Dir) newer(v int) error {
	return fmt.Errorf("%s: state version %d is newer than this labnet reads (up to %d): use the labnet that wrote it, or a later one", d.file(), v, Version)
}

func (r readResource) resource(a map[string]string) *Resource {
	return &Resource{Addr: r.Addr, Kind: r.Kind, Host: r.Host, Attrs: a, Record: r.Record, Deps: r.Deps, Tainted: r.Tainted}
}

// upgradeV1 turns version 1 resources (flat attributes) into s's: each
// one's attributes are encoded into its kind's spec and decoded back, so
// that an upgraded resource is exactly what writing it as version 2 and
// reading that gives, and a value version 2 could not hold stops here.
func upgradeV1(s *State, rs []readResource, c Codec) error {
	for i, fr := range rs {
		if fr.Spec != nil {
			return fmt.Errorf("%s: \"spec\" is version 2's; version 1 holds \"attrs\"", fr.Addr)
		}
		spec, err := c.Encode(fr.Kind, fr.Addr, fr.Attrs)
		if err != nil {
			return err
		}
		b, err := jsonv2.Marshal(spec)
		if err != nil {
			return fmt.Errorf("%s: %w", fr.Addr, err)
		}
		a, err := c.Decode(fr.Kind, fr.Addr, b)
		if err != nil {
			return err
		}
		s.Resources[i] = fr.resource(a)
	}
	return nil
}

// encode is the file of s with the given serial: version 2, each
// resource's spec through c.
func encode(s *State, c Codec, serial int64) ([]byte, error) {
	f := file[fileResource]{Version: Version, Serial: serial, Lineage: s.Lineage, Lab: s.Lab, Resources: make([]fileResource, len(s.Resources))}
	for i, r := range s.Resources {
		spec, err := c.Encode(r.Kind, r.Addr, r.Attrs)
		if err != nil {
			return nil, fmt.Errorf("state: %w", err)
		}
		f.Resources[i] = fileResource{Addr: r.Addr, Kind: r.Kind, Host: r.Host, Spec: spec, Record: r.Record, Deps: r.Deps, Tainted: r.Tainted}
	}
	// Deterministic: a codec's spec may be a map (as in state's tests).
	b, err := jsonv2.Marshal(f, jsontext.WithIndent("  "), jsonv2.Deterministic(true))
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Save bumps the serial and writes the state atomically: a temporary file
// is synced and renamed over the old one, which is kept as the backup. A
// resource whose attributes c refuses stops it before anything is
// written (the serial stays).
func (d Dir) Save(s *State, c Codec) error {
	if err := d.Ensure(); err != nil {
		return err
	}
	b, err := encode(s, c, s.Serial+1)
	if err != nil {
		return err
	}
	s.Serial++
	tmp, err := os.CreateTemp(d.Path, ".state-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if _, err := os.Stat(d.file()); err == nil {
		// The backup is replaced by a rename too, so a kill at any point
		// leaves both a state and a backup.
		tmpBackup := d.backup() + ".tmp"
		_ = os.Remove(tmpBackup)
		if err := os.Link(d.file(), tmpBackup); err != nil {
			return err
		}
		if err := os.Rename(tmpBackup, d.backup()); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp.Name(), d.file()); err != nil {
		return err
	}
	if f, err := os.Open(d.Path); err == nil {
		_ = f.Sync()
		f.Close()
	}
	return nil
}

// Remove deletes the state file (after a complete destroy); the backup stays.
func (d Dir) Remove() error {
	if _, err := os.Stat(d.file()); err == nil {
		_ = os.Remove(d.backup())
		if err := os.Rename(d.file(), d.backup()); err != nil {
			return err
		}
	}
	return nil
}

// LockInfo says who holds the lock.
type LockInfo struct {
	PID      int       `json:"pid"`
	Hostname string    `json:"hostname"`
	Op       string    `json:"op"`
	Created  time.Time `json:"created"`
}

// LockedError is returned when another command holds the lock.
type LockedError struct {
	Info  LockInfo
	Stale bool
	Path  string
}

func (e *LockedError) Error() string {
	msg := fmt.Sprintf("the lab is locked by `labnet %s` (pid %d on %s, since %s)", e.Info.Op, e.Info.PID, e.Info.Hostname, e.Info.Created.Format(time.RFC3339))
	if e.Stale {
		msg += "; that process is gone, so the lock is stale: remove it with `labnet force-unlock`"
	}
	return msg
}

// Lock takes the lab's lock for op, or says who holds it.
func (d Dir) Lock(op string) (unlock func(), err error) {
	if err := d.Ensure(); err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	info := LockInfo{PID: os.Getpid(), Hostname: host, Op: op, Created: time.Now().UTC()}
	b, _ := json.Marshal(info)
	f, err := os.OpenFile(d.lock(), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if errors.Is(err, os.ErrExist) {
		held, rerr := d.ReadLock()
		if rerr != nil {
			return nil, fmt.Errorf("the lab is locked (%s unreadable: %v); if no labnet runs, use `labnet force-unlock`", d.lock(), rerr)
		}
		return nil, &LockedError{Info: *held, Stale: stale(*held, host), Path: d.lock()}
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(d.lock())
		return nil, err
	}
	f.Close()
	// Temporary files of saves that a kill interrupted are ours to remove
	// now that nobody else can be saving.
	if old, _ := filepath.Glob(filepath.Join(d.Path, ".state-*.tmp")); len(old) > 0 {
		for _, o := range old {
			_ = os.Remove(o)
		}
	}
	return func() { os.Remove(d.lock()) }, nil
}

// ReadLock returns the lock's holder, or nil when unlocked.
func (d Dir) ReadLock() (*LockInfo, error) {
	b, err := os.ReadFile(d.lock())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var info LockInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// ForceUnlock removes the lock whoever holds it.
func (d Dir) ForceUnlock() error {
	err := os.Remove(d.lock())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// stale: the holder ran on this machine and its process is gone.
func stale(info LockInfo, host string) bool {
	if info.Hostname != host || info.PID <= 0 {
		return false
	}
	err := syscall.Kill(info.PID, 0)
	if errors.Is(err, syscall.ESRCH) {
		return true
	}
	// A reused PID of some other program: check it is a labnet.
	cmd, rerr := os.ReadFile("/proc/" + strconv.Itoa(info.PID) + "/cmdline")
	return rerr == nil && !strings.Contains(string(cmd), "labnet") && !strings.Contains(string(cmd), ".test")
}
