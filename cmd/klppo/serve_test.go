package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"klppo/web/explain"
)

func TestServeBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var out, errb bytes.Buffer
	code := run([]string{"serve", "--addr", ln.Addr().String(), "--runs", t.TempDir()}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "already in use") || !strings.Contains(errb.String(), ln.Addr().String()) {
		t.Errorf("busy port: exit %d, stderr %q", code, errb.String())
	}
}

func TestServeBadFlags(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--runs", file}, "--runs " + file + ": not a directory"},
		{[]string{"serve", "--addr", "nonsense", "--runs", t.TempDir()}, "--addr nonsense"},
		{[]string{"serve", "extra"}, "unexpected argument"},
		{[]string{"serve", "--addr", ":99999", "--runs", t.TempDir()}, "--addr :99999"},
		{[]string{"serve", "--addr", "127.0.0.1:http2", "--runs", t.TempDir()}, "--addr 127.0.0.1:http2"},
		{[]string{"serve", "--export", ""}, `--export ""`},
		{[]string{"serve", "--export", file}, "--export " + file + ": " + file + " exists and is not a directory"},
		{[]string{"serve", "--export", filepath.Dir(file)}, "is not empty (pass --force"},
		{[]string{"serve", "--force"}, "--force: only meaningful with --export"},
	} {
		var out, errb bytes.Buffer
		if code := run(c.args, &out, &errb); code != 2 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q (want 2 and %q)", c.args, code, errb.String(), c.want)
		}
	}
}

func TestServeExport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "site")
	var out, errb bytes.Buffer
	if code := run([]string{"serve", "--export", dir}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	// Again into the same, now non-empty, directory: refused without --force (exit 2), done with it.
	errb.Reset()
	if code := run([]string{"serve", "--export", dir}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "--export "+dir) {
		t.Errorf("export into a non-empty directory: exit %d, %s", code, errb.String())
	}
	if code := run([]string{"serve", "--export", dir, "--force"}, &out, &errb); code != 0 {
		t.Errorf("export --force: exit %d, %s", code, errb.String())
	}
	// A run directory is refused even with --force.
	runDir := filepath.Join(t.TempDir(), "run")
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(runDir, "metrics.csv"), []byte("update\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	errb.Reset()
	if code := run([]string{"serve", "--export", runDir, "--force"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "holds a run") {
		t.Errorf("export into a run directory: exit %d, %s", code, errb.String())
	}
	// A directory of the site that is a link out of DIR is never written through: exit 2 naming
	// the link (it was exit 1 with "mkdirat explain/coin: path escapes from parent").
	linked, outside := filepath.Join(t.TempDir(), "site"), t.TempDir()
	if err := os.MkdirAll(linked, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(linked, "explain")); err != nil {
		t.Fatal(err)
	}
	errb.Reset()
	code := run([]string{"serve", "--export", linked, "--force"}, &out, &errb)
	if code != 2 || !strings.Contains(errb.String(), "--export "+linked) || !strings.Contains(errb.String(), filepath.Join(linked, "explain")+" is a symbolic link out of") {
		t.Errorf("export with explain/ a link out of DIR: exit %d, %s", code, errb.String())
	}
	if es, _ := os.ReadDir(outside); len(es) != 0 {
		t.Errorf("export wrote %d entries through the explain/ link", len(es))
	}
	// --runs with --export: a snapshot of the runs; never inside the runs directory itself.
	withRuns := filepath.Join(t.TempDir(), "site")
	out.Reset()
	if code := run([]string{"serve", "--export", withRuns, "--runs", filepath.Dir(runDir)}, &out, &errb); code != 0 || !strings.Contains(out.String(), "snapshot of the runs") {
		t.Errorf("export --runs: exit %d, %s%s", code, out.String(), errb.String())
	}
	if _, err := os.Stat(filepath.Join(withRuns, "api", "run", "run", "index.json")); err != nil {
		t.Errorf("export --runs: %v", err)
	}
	errb.Reset()
	inside := filepath.Join(filepath.Dir(runDir), "site")
	if code := run([]string{"serve", "--export", inside, "--runs", filepath.Dir(runDir)}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "inside the runs directory") {
		t.Errorf("export inside --runs: exit %d, %s", code, errb.String())
	}
	files := []string{"index.html", "runs/index.html", "runs/view/index.html", "static/klppo.wasm", "static/wasm_exec.js", "static/charts.js"}
	for _, p := range explain.Pages {
		files = append(files, "explain/"+p.Slug+"/index.html")
	}
	for _, f := range files {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("export: %s missing or empty (%v)", f, err)
		}
	}
}

// serve listens on a free port, serves the pages and stops when its context is cancelled; a
// runs directory that does not exist yet is allowed.
func TestServeServesAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var errb bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, serveOptions{addr: "127.0.0.1:0", runs: filepath.Join(t.TempDir(), "later")}, pw, &errb)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no URL printed: %v (%s)", err, errb.String())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	i := strings.Index(line, "http://")
	if i < 0 {
		t.Fatalf("first line %q has no URL", line)
	}
	url := strings.TrimSpace(line[i:])
	client := &http.Client{Timeout: 10 * time.Second}
	for _, p := range []string{"", "explain/coin/", "runs/", "api/runs"} {
		resp, err := client.Get(url + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s%s: %d", url, p, resp.StatusCode)
		}
	}
	if !strings.Contains(errb.String(), "does not exist yet") {
		t.Errorf("stderr %q: want a note that the runs directory does not exist yet", errb.String())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
}
