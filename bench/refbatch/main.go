// Command refbatch is the benchmark's hand-written reference: it opens ONE
// SSH connection to a host of an applied netns lab (the lab's client key
// from .labnet/id_ed25519, the host key pinned in .labnet/state.json,
// dialled from the lab's underlay namespace, exactly as labnet dials it),
// runs the script it reads on stdin in the connection's shell, and prints
// the wall time in milliseconds (dial included) on stdout. The script's own
// output goes to stderr; a non-zero exit of the script is an error.
//
//	refbatch -dir LABDIR -host host.h < script.sh
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/labnet-dev/labnet/remote"
	"golang.org/x/crypto/ssh"
)

type stateFile struct {
	Lab       string `json:"lab"`
	Resources []struct {
		Addr   string          `json:"addr"`
		Record json.RawMessage `json:"record"`
	} `json:"resources"`
}

type record struct {
	HostKey string `json:"host_key"`
	User    string `json:"user"`
	SSHAddr string `json:"ssh_addr"`
}

func main() {
	dir := flag.String("dir", ".", "lab directory (holds .labnet/)")
	host := flag.String("host", "host.h", "host resource address")
	flag.Parse()
	if err := run(*dir, *host); err != nil {
		fmt.Fprintln(os.Stderr, "refbatch:", err)
		os.Exit(1)
	}
}

func run(dir, host string) error {
	script, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(dir, ".labnet", "state.json"))
	if err != nil {
		return err
	}
	var st stateFile
	if err := json.Unmarshal(b, &st); err != nil {
		return err
	}
	var rec *record
	for _, r := range st.Resources {
		if r.Addr == host {
			rec = &record{}
			if err := json.Unmarshal(r.Record, rec); err != nil {
				return err
			}
		}
	}
	if rec == nil {
		return fmt.Errorf("%s is not in %s's state", host, dir)
	}
	kb, err := os.ReadFile(filepath.Join(dir, ".labnet", "id_ed25519"))
	if err != nil {
		return err
	}
	signer, err := ssh.ParsePrivateKey(kb)
	if err != nil {
		return err
	}
	hk, err := remote.ParseAuthorizedKey(rec.HostKey)
	if err != nil {
		return err
	}
	ap, err := netip.ParseAddrPort(rec.SSHAddr)
	if err != nil {
		return err
	}
	user := rec.User
	if user == "" {
		user = "root"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	c, err := remote.Dial(ctx, remote.Target{Host: host, Addr: ap, User: user, Signer: signer, HostKey: hk,
		Netns: "/run/netns/labnet-" + st.Lab})
	if err != nil {
		return err
	}
	defer c.Close()
	r, err := c.Run(ctx, string(script))
	elapsed := time.Since(start)
	if err != nil {
		return err
	}
	os.Stderr.Write(r.Stdout)
	os.Stderr.Write(r.Stderr)
	if r.Code != 0 {
		return fmt.Errorf("script exited %d", r.Code)
	}
	fmt.Println(elapsed.Milliseconds())
	return nil
}
