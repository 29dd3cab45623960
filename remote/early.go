package remote

import (
	"context"
	"errors"
	"sync"

	"golang.org/x/crypto/ssh"
)

// Early is an SSH login started before the host key it must present is
// known. labnet starts it from the lab's configuration while it still
// decodes the state that pins the key: the login is tens of milliseconds
// of waiting on the host, the state of a large lab several of CPU, and
// they overlap. The handshake waits in its host-key check until Claim
// supplies the pinned key, so nothing is authenticated to a host before
// its key is checked, exactly as Dial checks it.
//
// An early login makes one attempt (no retries); when it cannot be used,
// the caller dials as it would have without it.
type Early struct {
	target Target
	ctx    context.Context
	cancel context.CancelFunc

	once   sync.Once
	pinned chan struct{} // closed when pin is set
	pin    ssh.PublicKey

	done chan struct{} // closed when the attempt ended
	conn *Conn
	err  error
}

var errAbandoned = errors.New("early login abandoned")

// DialEarly starts logging in to t; t.HostKey is ignored (Claim brings the
// pinned one). ctx bounds the attempt.
func DialEarly(ctx context.Context, t Target) *Early {
	ctx, cancel := context.WithCancel(ctx)
	e := &Early{target: t, ctx: ctx, cancel: cancel, pinned: make(chan struct{}), done: make(chan struct{})}
	t.HostKey = nil
	go func() {
		defer close(e.done)
		e.conn, e.err = dial(ctx, t, e.awaitPin, false)
	}()
	return e
}

func (e *Early) awaitPin() (ssh.PublicKey, error) {
	select {
	case <-e.pinned:
		if e.pin == nil {
			return nil, errAbandoned
		}
		return e.pin, nil
	case <-e.ctx.Done():
		return nil, errAbandoned
	}
}

func (e *Early) setPin(k ssh.PublicKey) {
	e.once.Do(func() {
		e.pin = k
		close(e.pinned)
	})
}

// Claim hands over the login if it can stand for Dial(ctx, t): it went to
// the same address, from the same namespace, as the same user with the
// same client key, t pins a host key (a first login, which pins what it
// sees, is Dial's job), and the login succeeded with that key. Otherwise
// ok is false and the caller dials as before; an attempt that failed
// (refused, timed out, a changed key) costs one more try that way, and
// its error, if it fails again, is Dial's own.
func (e *Early) Claim(ctx context.Context, t Target) (c *Conn, ok bool) {
	if t.HostKey == nil || !sameTarget(e.target, t) {
		e.Abandon()
		return nil, false
	}
	e.setPin(t.HostKey)
	select {
	case <-e.done:
	case <-ctx.Done():
		e.Abandon()
		return nil, false
	}
	if e.err != nil {
		return nil, false
	}
	e.conn.target = t
	return e.conn, true
}

// Abandon stops an unclaimed login and waits for it to end.
func (e *Early) Abandon() {
	e.setPin(nil)
	e.cancel()
	<-e.done
	if e.conn != nil {
		e.conn.Close()
		e.conn = nil
	}
}

func sameTarget(a, b Target) bool {
	if a.Addr != b.Addr || a.Netns != b.Netns || a.User != b.User || a.Sudo != b.Sudo || (a.Signer == nil) != (b.Signer == nil) {
		return false
	}
	return a.Signer == nil || keysEqual(a.Signer.PublicKey(), b.Signer.PublicKey())
}
