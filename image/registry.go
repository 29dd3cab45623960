package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Images from a registry (docker://NAME:TAG or docker://NAME@sha256:...)
// are pulled by labnet, on the machine it runs on, into a cache there
// (CacheDir), and shipped to the hosts like an archive's: the hosts need
// no registry access, no credentials and no route to the registry, and a
// lab of many hosts pulls each image once. go-containerregistry's remote
// package speaks the registry protocol: Docker's credentials
// (~/.docker/config.json, its helpers) when it has them, anonymous
// otherwise; https, and plain http as well for a registry named
// localhost or *.local, or at a loopback or private (RFC 1918) address.

// Platform is what labnet runs: Linux containers for the architecture of
// the machine labnet runs on (that of its netns and Lima hosts). An index
// of several platforms gives its image for Platform; an image of another
// is refused.
var Platform = v1.Platform{OS: "linux", Architecture: runtime.GOARCH}

func platformString() string { return Platform.OS + "/" + Platform.Architecture }

const (
	// Timeout bounds resolving an image at a registry: the connection,
	// its token, the manifest (and index) and the config. A registry that
	// is down, firewalled or hung is reported after it, by name.
	Timeout = 10 * time.Second
	// Stall fails the pull of a layer that receives nothing for this long
	// (a layer may take any time as long as it flows).
	Stall = 30 * time.Second
)

// CacheEnv names the environment variable that moves the cache.
const CacheEnv = "LABNET_IMAGE_CACHE"

// CacheDir is where pulled images are kept: $LABNET_IMAGE_CACHE, or
// labnet/images in the user's cache directory (~/.cache/labnet/images).
// It holds blobs named by digest (blobs/sha256/HEX, as in an OCI layout),
// each checked when written and when read; removing it at any time loses
// nothing but the next pull's time.
func CacheDir() (string, error) {
	if d := os.Getenv(CacheEnv); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no directory to cache pulled images in (%v): set %s", err, CacheEnv)
	}
	return filepath.Join(d, "labnet", "images"), nil
}

// httpTransport bounds each step of a connection, so an unreachable
// registry fails in seconds rather than the system's minutes.
var httpTransport = &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	ForceAttemptHTTP2:     true,
	MaxIdleConns:          16,
	IdleConnTimeout:       90 * time.Second,
	TLSHandshakeTimeout:   5 * time.Second,
	ResponseHeaderTimeout: Timeout,
	ExpectContinueTimeout: time.Second,
}

func remoteOptions(ctx context.Context) []remote.Option {
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(authn.DefaultKeychain),
		remote.WithTransport(httpTransport),
		remote.WithPlatform(Platform),
		remote.WithUserAgent("labnet"),
		// A flake is retried, quickly: Timeout bounds it all.
		remote.WithRetryBackoff(remote.Backoff{Duration: 250 * time.Millisecond, Factor: 2, Steps: 3}),
	}
}

// parseDocker reads the NAME[:TAG|@sha256:HEX] of docker://; a name
// without either is NAME:latest, as Docker reads it.
func parseDocker(s string) (name.Reference, error) {
	if s == "" {
		return nil, errors.New("docker:// names no image")
	}
	ref, err := name.ParseReference(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a registry reference NAME[:TAG] or NAME@sha256:DIGEST: %w", s, err)
	}
	return ref, nil
}

// pullDocker gives the image ref names for Platform, from the cache:
// a digest whose blobs are all there needs no registry; otherwise the
// registry is asked (a tag is resolved every time: what it names may
// change) and what the cache lacks is pulled into it.
func pullDocker(ref name.Reference) (v1.Image, store, error) {
	dir, err := CacheDir()
	if err != nil {
		return nil, store{}, err
	}
	s := store{dir: dir, what: "the image cache " + dir}
	if d, ok := ref.(name.Digest); ok {
		if img, err := cachedImage(s, d); err == nil {
			return img, s, nil
		}
	}
	reg := ref.Context().RegistryStr()
	what := ref.Context().RepositoryStr() + ":" + ref.Identifier()
	if _, ok := ref.(name.Digest); ok {
		what = ref.Context().RepositoryStr() + "@" + ref.Identifier()
	}

	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	opts := remoteOptions(ctx)
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return nil, s, registryErr(reg, what, err)
	}
	img, err := desc.Image()
	if err != nil {
		return nil, s, registryErr(reg, what, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return nil, s, registryErr(reg, what, err)
	}
	raw, err := img.RawManifest()
	if err != nil {
		return nil, s, registryErr(reg, what, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, s, fmt.Errorf("registry %s: the manifest of %s: %w", reg, what, err)
	}
	repo := ref.Context()
	if err := pullBlob(ctx, s, repo, m.Config, opts); err != nil {
		return nil, s, registryErr(reg, what, err)
	}
	for _, l := range m.Layers {
		if err := pullLayer(s, repo, l); err != nil {
			return nil, s, registryErr(reg, what, err)
		}
	}
	// The manifest last: in the cache, a manifest means its blobs are there.
	if err := s.write(digest, int64(len(raw)), bytes.NewReader(raw)); err != nil {
		return nil, s, err
	}
	mt, _ := img.MediaType() // the manifest's own (desc's is the index's when a tag names one)
	img, err = s.image(digest, mt)
	return img, s, err
}

// cachedImage is the cached image with digest d when its manifest and
// every blob it names are there.
func cachedImage(s store, d name.Digest) (v1.Image, error) {
	h, err := v1.NewHash(d.DigestStr())
	if err != nil {
		return nil, err
	}
	if !s.has(h, -1) {
		return nil, os.ErrNotExist
	}
	img, err := s.image(h, "")
	if err != nil {
		return nil, err
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	for _, b := range append([]v1.Descriptor{m.Config}, m.Layers...) {
		if !s.has(b.Digest, b.Size) {
			return nil, os.ErrNotExist
		}
	}
	return img, nil
}

// pullBlob copies a blob into the cache unless it is there.
func pullBlob(ctx context.Context, s store, repo name.Repository, d v1.Descriptor, opts []remote.Option) error {
	if s.has(d.Digest, d.Size) {
		return nil
	}
	l, err := remote.Layer(repo.Digest(d.Digest.String()), opts...)
	if err != nil {
		return err
	}
	rc, err := l.Compressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	return s.write(d.Digest, d.Size, rc)
}

// pullLayer copies a layer into the cache unless it is there. It has no
// deadline, but fails when nothing arrives for Stall.
func pullLayer(s store, repo name.Repository, d v1.Descriptor) error {
	if s.has(d.Digest, d.Size) {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stalled atomic.Bool
	timer := time.AfterFunc(Stall, func() { stalled.Store(true); cancel() })
	defer timer.Stop()
	l, err := remote.Layer(repo.Digest(d.Digest.String()), remoteOptions(ctx)...)
	if err == nil {
		var rc io.ReadCloser
		if rc, err = l.Compressed(); err == nil {
			err = s.write(d.Digest, d.Size, &stallReader{r: rc, t: timer})
			rc.Close()
		}
	}
	if err != nil && stalled.Load() {
		return fmt.Errorf("layer %s: nothing arrived for %s", d.Digest, Stall)
	}
	if err != nil {
		return fmt.Errorf("layer %s: %w", d.Digest, err)
	}
	return nil
}

// stallReader restarts the stall timer whenever bytes arrive.
type stallReader struct {
	r io.Reader
	t *time.Timer
}

func (s *stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		s.t.Reset(Stall)
	}
	return n, err
}

// registryErr says what went wrong at registry reg while getting what
// (REPOSITORY:TAG or REPOSITORY@DIGEST), in the terms a user acts on.
func registryErr(reg, what string, err error) error {
	var te *transport.Error
	var op *net.OpError
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.As(err, &te):
		// The status and the registry's error codes say it; the rest of
		// its message repeats the request.
		said := fmt.Sprint(te.StatusCode)
		codes := map[transport.ErrorCode]bool{}
		for _, d := range te.Errors {
			codes[d.Code] = true
			said += " " + string(d.Code)
		}
		switch {
		case te.StatusCode == http.StatusNotFound || codes[transport.ManifestUnknownErrorCode] || codes[transport.NameUnknownErrorCode] || codes[transport.BlobUnknownErrorCode]:
			return fmt.Errorf("registry %s has no %s (%s)", reg, what, said)
		case te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden:
			return fmt.Errorf("registry %s refuses %s to labnet (%s): labnet uses Docker's credentials (docker login)", reg, what, said)
		}
		return fmt.Errorf("registry %s, %s: %v", reg, what, te)
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return fmt.Errorf("registry %s did not answer within %s (getting %s)", reg, Timeout, what)
	case errors.As(err, &dns):
		return fmt.Errorf("cannot reach registry %s: %v", reg, dns)
	case errors.As(err, &op) && op.Op == "dial":
		return fmt.Errorf("cannot reach registry %s: %v", reg, op.Err)
	case errors.As(err, &op) && op.Op == "proxyconnect":
		return fmt.Errorf("cannot reach registry %s through the proxy (HTTPS_PROXY, HTTP_PROXY): %v", reg, op.Err)
	}
	return fmt.Errorf("registry %s, %s: %w", reg, what, err)
}
