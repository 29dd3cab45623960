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
)

// Version of the file format.
const Version = 1

// State of one lab.
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

// Load reads the state; a missing file gives (nil, nil).
func (d Dir) Load() (*State, error) {
	b, err := os.ReadFile(d.file())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s State
	// encoding/json/v2 (mirrored by go-json-experiment/json until Go 1.27
	// makes it the standard library's) decodes a state twice as fast as
	// encoding/json: 4 ms instead of 9 for 1,000 containers, on the path of
	// every command of a large lab.
	if err := jsonv2.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w (the previous version is in %s)", d.file(), err, d.backup())
	}
	if s.Version != Version {
		return nil, fmt.Errorf("%s: state version %d, this labnet reads version %d", d.file(), s.Version, Version)
	}
	// labnet writes it sorted; a state edited by hand may not be.
	slices.SortStableFunc(s.Resources, func(a, b *Resource) int { return strings.Compare(a.Addr, b.Addr) })
	return &s, nil
}

// Save bumps the serial and writes the state atomically: a temporary file
// is synced and renamed over the old one, which is kept as the backup.
func (d Dir) Save(s *State) error {
	if err := d.Ensure(); err != nil {
		return err
	}
	s.Serial++
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(d.Path, ".state-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
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
