package remote

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/melbahja/goph"
	"golang.org/x/crypto/ssh"
)

// Conn is one SSH connection to a host with one long-lived /bin/sh on it.
// Scripts sent with Run execute in that shell one at a time, so a run pays
// the user's login shell start-up (rc files) once per connection instead of
// once per command. Stream opens a separate session for long-running work
// (check listeners, exec) on the same connection.
type Conn struct {
	target  Target
	client  *goph.Client
	hostKey ssh.PublicKey

	mu        sync.Mutex // one Run at a time
	sess      *ssh.Session
	stdin     io.WriteCloser
	out, errs *bufio.Reader
	broken    error
	// started is the marker the shell prints when it is up; the first
	// script's reply begins after it (see startShell).
	started string

	exchanges atomic.Int64
	sent      atomic.Int64 // bytes of scripts run
}

// HostKey is the key the host presented.
func (c *Conn) HostKey() ssh.PublicKey { return c.hostKey }

// Exchanges counts the scripts run and sessions opened on this connection.
func (c *Conn) Exchanges() int64 { return c.exchanges.Load() }

// Sent counts the bytes of the scripts run on this connection.
func (c *Conn) Sent() int64 { return c.sent.Load() }

// Host is the resource address of the host this connection reaches.
func (c *Conn) Host() string { return c.target.Host }

// Client exposes the goph client for sessions of callers' own (ssh, capture).
func (c *Conn) Client() *goph.Client { return c.client }

func (c *Conn) shellCommand() string {
	// PATH is set explicitly: the remote user's rc files must not decide
	// which ip or nft runs. LC_ALL=C keeps tool messages parseable.
	sh := "env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C HOME=/root /bin/sh"
	if c.target.Sudo {
		return "sudo -n " + sh
	}
	return "exec " + sh
}

func (c *Conn) startShell() error {
	if c.sess != nil {
		return nil
	}
	s, err := c.client.NewSession()
	if err != nil {
		return err
	}
	in, err := s.StdinPipe()
	if err != nil {
		return err
	}
	out, err := s.StdoutPipe()
	if err != nil {
		return err
	}
	errs, err := s.StderrPipe()
	if err != nil {
		return err
	}
	if err := s.Start(c.shellCommand()); err != nil {
		return err
	}
	c.sess, c.stdin = s, in
	c.out, c.errs = bufio.NewReaderSize(out, 64<<10), bufio.NewReaderSize(errs, 16<<10)
	// The shell proves it is there by printing a marker, and whatever the
	// login's rc files printed before it is skipped. The first script goes
	// out right behind it, so this costs no round trip of its own.
	c.started = "@@labnet-start-" + nonce()
	_, err = fmt.Fprintf(in, "printf '\\n%s\\n'; printf '\\n%s\\n' >&2\n", c.started, c.started)
	return err
}

func nonce() string {
	var nb [8]byte
	_, _ = rand.Read(nb[:])
	return hex.EncodeToString(nb[:])
}

// Result of one script.
type Result struct {
	Stdout, Stderr []byte
	Code           int
}

// ExitError is a script that ran and exited non-zero.
type ExitError struct {
	Host   string
	Code   int
	Stderr string
}

func (e *ExitError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		msg = "(no output on stderr)"
	}
	return fmt.Sprintf("%s: exit status %d: %s", e.Host, e.Code, msg)
}

// Run executes script (POSIX sh) on the host and waits for it. The script
// runs in a child of the host's shell with stdin from /dev/null; data it
// needs goes in here-documents. A non-zero exit is reported in Result.Code, not as error;
// errors mean the connection or shell failed.
func (c *Conn) Run(ctx context.Context, script string) (Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent.Add(int64(len(script)))
	if c.broken != nil {
		return Result{}, c.broken
	}
	if c.sess == nil {
		// The shell starts on first use: a connection that only streams
		// (labnet test's agents) never pays for it.
		if err := c.startShell(); err != nil {
			c.broken = fmt.Errorf("%s: start shell: %w", c.target.Host, err)
			return Result{}, c.broken
		}
	}
	return c.run(ctx, script)
}

// run is Run with c.mu held and the shell started.
func (c *Conn) run(ctx context.Context, script string) (Result, error) {
	c.exchanges.Add(1)
	n := nonce()
	end := "@@labnet-end-" + n
	// The script runs in a subshell (a fork, no exec) that reads it from a
	// here-document on fd 3 (no temporary file: no mktemp, cat and rm
	// processes), so even a script with a syntax error or an exit ends
	// that subshell and then our marker, instead of leaving this shell
	// waiting for the rest of it. The script closes fd 3 first, so nothing
	// it starts inherits it.
	var b strings.Builder
	fmt.Fprintf(&b, "( . /dev/fd/3 ) 3<<'LABNET_%s' </dev/null; rc=$?\nexec 3<&-\n%s\nLABNET_%s\n", n, script, n)
	fmt.Fprintf(&b, "printf '\\n%s %%d\\n' $rc\nprintf '\\n%s\\n' >&2\n", end, end)
	skip := c.started
	c.started = ""

	type read struct {
		data []byte
		code int
		err  error
	}
	// reply reads one stream up to the end marker, after the shell's start
	// marker on the first run (what came before that, on stderr, says why
	// a shell did not start: "sudo: a password is required").
	reply := func(r *bufio.Reader, withCode bool) read {
		if skip != "" {
			if d, _, err := readUntil(r, skip, false); err != nil {
				return read{d, -1, err}
			}
		}
		d, code, err := readUntil(r, end, withCode)
		return read{d, code, err}
	}
	outc, errc := make(chan read, 1), make(chan read, 1)
	go func() { outc <- reply(c.out, true) }()
	go func() { errc <- reply(c.errs, false) }()
	if _, err := io.WriteString(c.stdin, b.String()); err != nil {
		c.broken = fmt.Errorf("%s: shell: %w", c.target.Host, err)
		c.sess.Close()
		return Result{}, c.broken
	}
	var o, e read
	for got := 0; got < 2; {
		select {
		case o = <-outc:
			got++
		case e = <-errc:
			got++
		case <-ctx.Done():
			c.broken = fmt.Errorf("%s: %w", c.target.Host, ctx.Err())
			c.sess.Close()
			return Result{}, c.broken
		}
	}
	if o.err != nil || e.err != nil {
		err := errors.Join(o.err, e.err)
		if msg := strings.TrimSpace(string(e.data)); msg != "" {
			err = fmt.Errorf("%w: %s", err, msg)
		}
		c.broken = fmt.Errorf("%s: shell ended: %w", c.target.Host, err)
		return Result{}, c.broken
	}
	return Result{Stdout: o.data, Stderr: e.data, Code: o.code}, nil
}

// readUntil reads lines until the end marker; the newline printed before the
// marker is removed again.
func readUntil(r *bufio.Reader, end string, withCode bool) ([]byte, int, error) {
	var buf bytes.Buffer
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return buf.Bytes(), -1, err
		}
		if bytes.HasPrefix(line, []byte(end)) {
			data := buf.Bytes()
			if n := len(data); n > 0 && data[n-1] == '\n' {
				data = data[:n-1]
			}
			code := 0
			if withCode {
				f := strings.Fields(string(line[len(end):]))
				if len(f) == 1 {
					code, _ = strconv.Atoi(f[0])
				}
			}
			return data, code, nil
		}
		buf.Write(line)
	}
}

// Must runs script and turns a non-zero exit into an *ExitError.
func (c *Conn) Must(ctx context.Context, script string) ([]byte, error) {
	r, err := c.Run(ctx, script)
	if err != nil {
		return nil, err
	}
	if r.Code != 0 {
		return r.Stdout, &ExitError{Host: c.target.Host, Code: r.Code, Stderr: string(r.Stderr)}
	}
	return r.Stdout, nil
}

// Stream runs script in a session of its own (so it may run long, beside
// the shell) and copies its output to stdout and stderr. stdin may be nil.
// It returns the script's exit code. Cancelling ctx ends the session.
func (c *Conn) Stream(ctx context.Context, script string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	c.exchanges.Add(1)
	s, err := c.client.NewSession()
	if err != nil {
		return -1, fmt.Errorf("%s: new session: %w", c.target.Host, err)
	}
	defer s.Close()
	s.Stdin, s.Stdout, s.Stderr = stdin, stdout, stderr
	cmd := c.shellCommand() + " -c " + Quote(script)
	if err := s.Start(cmd); err != nil {
		return -1, err
	}
	done := make(chan error, 1)
	go func() { done <- s.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = s.Signal(ssh.SIGKILL)
		s.Close()
		return -1, ctx.Err()
	}
	if err == nil {
		return 0, nil
	}
	var ee *ssh.ExitError
	if errors.As(err, &ee) {
		return ee.ExitStatus(), nil
	}
	return -1, fmt.Errorf("%s: %w", c.target.Host, err)
}

// Close ends the shell and the connection.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stdin != nil {
		c.stdin.Close()
	}
	if c.broken == nil {
		c.broken = errors.New("connection closed")
	}
	return c.client.Close()
}
