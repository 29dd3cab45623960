// Package remote is labnet's one way into a host: an SSH connection made
// with goph, and a long-lived shell on it that runs scripts one exchange at
// a time. Every provider (netns, ssh, lima) hands back a Target; everything
// labnet does on a host goes through a Conn.
package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/melbahja/goph"
	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"
)

// Target says how to reach one host.
type Target struct {
	Host    string         // resource address, for messages
	Addr    netip.AddrPort // where sshd listens
	User    string
	Signer  ssh.Signer    // client key
	HostKey ssh.PublicKey // pinned host key; nil means trust on first use (the key is reported in Conn.HostKey)
	Netns   string        // when set, the TCP socket is made inside this network namespace (a path such as /run/netns/labnet-x)
	Sudo    bool          // run the shell through sudo -n (non-root users)
	Timeout time.Duration // connect timeout; default 10s
}

// HostKeyMismatchError is returned when a host presents a key other than the pinned one.
type HostKeyMismatchError struct {
	Host      string
	Want, Got string // authorized_keys form
}

func (e *HostKeyMismatchError) Error() string {
	return fmt.Sprintf("%s: host key changed: pinned %s, host presented %s; if the host was rebuilt on purpose, forget the old key with `labnet state rm-hostkey %s` (the next run pins the new one)", e.Host, e.Want, e.Got, e.Host)
}

// DialTCP makes a TCP connection from inside the network namespace at path
// (or from here when path is empty). The OS thread is locked and switched
// only for the connect; the socket keeps the namespace it was made in.
func DialTCP(ctx context.Context, path string, addr string, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	if path == "" {
		return d.DialContext(ctx, "tcp", addr)
	}
	var c net.Conn
	err := InNetns(path, func() error {
		// Go's dialer makes the socket on this locked thread before any
		// goroutine switch.
		var err error
		c, err = d.DialContext(ctx, "tcp", addr)
		return err
	})
	return c, err
}

// InNetns runs f on an OS thread switched into the network namespace at
// path, so the sockets f makes (a TCP dial, a netlink query) belong to that
// namespace; the rest of the process stays where it is.
func InNetns(path string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// The thread is not unlocked if we cannot switch back: Go then
		// retires it instead of reusing a thread in the wrong namespace.
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread() // not switched yet: the thread is fine
			errc <- err
			return
		}
		defer orig.Close()
		target, err := os.Open(path)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open network namespace: %w", err)
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter network namespace %s: %w", path, err)
			return
		}
		ferr := f()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- ferr
			return // the thread stays locked and dies with the goroutine
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// Dial opens the SSH connection and the host's long-lived shell.
func Dial(ctx context.Context, t Target) (*Conn, error) {
	return dial(ctx, t, nil, true)
}

// dial logs in to t. pin, when set, supplies the host key to check in
// place of t.HostKey (an early dial learns it only later, see Early); with
// retry, refused connections are retried until the timeout (sshd may still
// be starting: netns hosts, booting VMs).
func dial(ctx context.Context, t Target, pin func() (ssh.PublicKey, error), retry bool) (*Conn, error) {
	timeout := t.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	addr := net.JoinHostPort(t.Addr.Addr().String(), strconv.Itoa(int(t.Addr.Port())))
	var presented ssh.PublicKey
	var mismatch error
	cb := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		presented = key
		want := t.HostKey
		if pin != nil {
			var err error
			if want, err = pin(); err != nil {
				return err
			}
		}
		if want != nil && !keysEqual(want, key) {
			mismatch = &HostKeyMismatchError{Host: t.Host, Want: AuthorizedKey(want), Got: AuthorizedKey(key)}
			return mismatch
		}
		return nil
	}
	cfg := &ssh.ClientConfig{
		User:            t.User,
		Auth:            goph.Auth{ssh.PublicKeys(t.Signer)},
		HostKeyCallback: cb,
		Timeout:         timeout,
	}
	var lastErr error
	deadline := time.Now().Add(timeout)
	for {
		tcp, err := DialTCP(ctx, t.Netns, addr, timeout)
		if err == nil {
			_ = tcp.SetDeadline(time.Now().Add(timeout))
			// A cancelled run does not wait out the handshake's deadline.
			stop := context.AfterFunc(ctx, func() { _ = tcp.SetDeadline(time.Unix(1, 0)) })
			c, chans, reqs, herr := ssh.NewClientConn(tcp, addr, cfg)
			stop()
			if herr == nil {
				_ = tcp.SetDeadline(time.Time{})
				client := &goph.Client{Client: ssh.NewClient(c, chans, reqs), Config: &goph.Config{User: t.User, Addr: t.Addr.Addr().String(), Port: uint(t.Addr.Port())}}
				return &Conn{target: t, client: client, hostKey: presented}, nil
			}
			tcp.Close()
			if mismatch != nil {
				return nil, mismatch
			}
			err = herr
		}
		lastErr = err
		if !retry || !retryable(err) || time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("%s: ssh %s@%s: %w", t.Host, t.User, addr, lastErr)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func retryable(err error) bool {
	return errors.Is(err, unix.ECONNREFUSED) || errors.Is(err, unix.EHOSTUNREACH) || errors.Is(err, unix.ECONNRESET)
}

func keysEqual(a, b ssh.PublicKey) bool {
	return a.Type() == b.Type() && string(a.Marshal()) == string(b.Marshal())
}

// AuthorizedKey renders a public key as one authorized_keys line without newline.
func AuthorizedKey(k ssh.PublicKey) string {
	b := ssh.MarshalAuthorizedKey(k)
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	return string(b)
}

// ParseAuthorizedKey is the inverse of AuthorizedKey.
func ParseAuthorizedKey(s string) (ssh.PublicKey, error) {
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(s))
	return k, err
}
