package testutil

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Registry is a real image registry (Debian's docker-registry, the
// CNCF distribution) that a test started on loopback, with its own
// config and storage; it is stopped and its files removed when the test
// ends, however it ends.
type Registry struct {
	Addr    string // 127.0.0.1:PORT
	Storage string // its storage root (docker/registry/v2/...)
	log     string // its output: access log and messages
}

// StartRegistry starts a registry on a free loopback port.
func StartRegistry(t testing.TB) *Registry {
	t.Helper()
	NeedTools(t, "docker-registry")
	// No credentials of the user running the tests (Docker's keychain
	// reads them, and may run a credential helper, for any registry).
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	dir := t.TempDir()
	r := &Registry{Storage: filepath.Join(dir, "storage"), log: filepath.Join(dir, "registry.log")}
	// A free port can be taken between its probe and the registry's
	// listen: try another then.
	var last error
	for try := 0; try < 5; try++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		r.Addr = l.Addr().String()
		l.Close()
		if last = r.start(t, dir); last == nil {
			return r
		}
	}
	t.Fatalf("docker-registry did not start: %v", last)
	return nil
}

func (r *Registry) start(t testing.TB, dir string) error {
	cfg := filepath.Join(dir, "config.yml")
	// The registry's config: loopback only, no auth, deletes allowed, no
	// health check of its storage (nothing to wait for).
	body := fmt.Sprintf("version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n", r.Storage, r.Addr)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(r.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("docker-registry", "serve", cfg)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); out.Close() }()
	stop := func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	c := http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("exited (%v): %s", err, r.Log())
		default:
		}
		resp, err := c.Get("http://" + r.Addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Cleanup(stop)
				return nil
			}
		}
	}
	stop()
	return fmt.Errorf("no answer on %s within 10s: %s", r.Addr, r.Log())
}

// Log is what the registry printed so far.
func (r *Registry) Log() string {
	b, _ := os.ReadFile(r.log)
	return string(b)
}

var blobGetRe = regexp.MustCompile(`"GET /v2/[^ ]+/blobs/sha256:[0-9a-f]{64} HTTP/[0-9.]+" 200 `)

// BlobGets counts the blobs the registry has served (its access log's
// successful GETs of /v2/NAME/blobs/DIGEST).
func (r *Registry) BlobGets() int {
	return len(blobGetRe.FindAllString(r.Log(), -1))
}

// Blob is the file in which the registry keeps the blob with digest
// (sha256:HEX).
func (r *Registry) Blob(digest string) string {
	hex := strings.TrimPrefix(digest, "sha256:")
	return filepath.Join(r.Storage, "docker/registry/v2/blobs/sha256", hex[:2], hex, "data")
}
