package web

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// newTestRuns makes a runs directory with one train-like run, a secret file beside it and
// symbolic links that point out of it.
func newTestRuns(t *testing.T) (runs, secret string) {
	t.Helper()
	base := t.TempDir()
	runs = filepath.Join(base, "runs")
	secret = filepath.Join(base, "secret.csv")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(secret, []byte("update,global_step\nTOP-SECRET,1\n"), 0o644))
	run := filepath.Join(runs, "cartpole")
	must(os.MkdirAll(run, 0o755))
	must(os.WriteFile(filepath.Join(run, "metrics.csv"), []byte("update,global_step,kl\n1,128,0.01\n2,256,0.02\n3,38"), 0o644))
	must(os.WriteFile(filepath.Join(run, "config.json"), []byte(`{"env_id":"CartPole-v1"}`), 0o644))
	must(os.WriteFile(filepath.Join(run, "run.json"), []byte(`{"kind":"train"}`), 0o644))
	must(os.Symlink(secret, filepath.Join(run, "leak.csv")))              // a file link out of the runs dir
	must(os.Symlink(filepath.Dir(secret), filepath.Join(runs, "escape"))) // a directory link out of it
	must(os.Symlink("metrics.csv", filepath.Join(run, "inside.csv")))     // a link that stays inside
	return runs, secret
}

func get(t *testing.T, h http.Handler, method, target string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, "http://127.0.0.1"+target, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, err := io.ReadAll(rec.Result().Body)
	if err != nil {
		t.Fatal(err)
	}
	return rec.Code, string(b)
}

// Nothing outside the runs directory is served: "..", encoded "..", absolute paths and
// symbolic links out of it are all refused, and the secret never appears in a response.
func TestServerStaysInsideRuns(t *testing.T) {
	runs, secret := newTestRuns(t)
	s, err := NewServer(runs)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	attacks := []string{
		"/api/file?run=cartpole&file=../../secret.csv",
		"/api/file?run=..&file=secret.csv",
		"/api/file?run=cartpole&file=%2e%2e%2f%2e%2e%2fsecret.csv",
		"/api/file?run=cartpole%2f..%2f..&file=secret.csv",
		"/api/file?run=" + secret + "&file=x",
		"/api/file?run=cartpole&file=" + secret,
		"/api/file?run=cartpole&file=leak.csv",
		"/api/file?run=escape&file=secret.csv",
		"/api/file?run=cartpole&file=..%5c..%5csecret.csv",
		"/api/run?run=..",
		"/api/run?run=%2e%2e",
		"/api/run?run=" + filepath.Dir(secret),
		"/api/run?run=escape",
		"/static/../../secret.csv",
		"/static/%2e%2e/%2e%2e/secret.csv",
		"/explain/../../secret.csv",
		"/../secret.csv",
	}
	for _, a := range attacks {
		code, body := get(t, s, "GET", a)
		if code == http.StatusOK || strings.Contains(body, "TOP-SECRET") {
			t.Errorf("GET %s: status %d, body %.80q", a, code, body)
		}
	}
	// Allowed: a file of the run, and a link that stays inside the runs directory.
	for _, ok := range []string{"/api/file?run=cartpole&file=metrics.csv", "/api/file?run=cartpole&file=inside.csv"} {
		if code, body := get(t, s, "GET", ok); code != http.StatusOK || !strings.Contains(body, "0.02") {
			t.Errorf("GET %s: status %d, body %.80q", ok, code, body)
		}
	}
	// The runs list does not follow the link out of the directory either.
	code, body := get(t, s, "GET", "/api/runs")
	if code != http.StatusOK || strings.Contains(body, "escape") || !strings.Contains(body, `"cartpole"`) {
		t.Errorf("GET /api/runs: %d %s", code, body)
	}
}

// Read-only: anything but GET and HEAD is refused.
func TestServerReadOnly(t *testing.T) {
	runs, _ := newTestRuns(t)
	s, err := NewServer(runs)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		if code, _ := get(t, s, m, "/api/file?run=cartpole&file=metrics.csv"); code != http.StatusMethodNotAllowed {
			t.Errorf("%s: status %d, want 405", m, code)
		}
	}
}

// The run API reads a run being written: the partial last line is dropped, the kind is found.
func TestServerRunAPI(t *testing.T) {
	runs, _ := newTestRuns(t)
	s, err := NewServer(runs)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	code, body := get(t, s, "GET", "/api/run?run=cartpole")
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	var d RunData
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	if d.Kind != "train" || len(d.Tables["metrics.csv"].Rows) != 2 || d.Rows != 2 {
		t.Errorf("kind %q, %d rows (Rows %d): want train with 2 complete rows", d.Kind, len(d.Tables["metrics.csv"].Rows), d.Rows)
	}
	if code, body := get(t, s, "GET", "/api/run?run=nope"); code != http.StatusNotFound || !strings.Contains(body, "nope") {
		t.Errorf("missing run: %d %s", code, body)
	}
	// Pages: the explain path without a slash redirects and keeps the query.
	req := httptest.NewRequest("GET", "http://127.0.0.1/explain/coin?p=0.7&q=0.5", nil)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if loc := rec.Header().Get("Location"); rec.Code != http.StatusMovedPermanently || loc != "/explain/coin/?p=0.7&q=0.5" {
		t.Errorf("redirect: %d to %q", rec.Code, loc)
	}
}

// The committed klppo.wasm and wasm_exec.js are what `go generate ./web` builds from the current
// sources (a stale wasm would give the browser different numbers from `klppo kl`).
func TestWasmIsCurrent(t *testing.T) {
	dir := t.TempDir()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goTool, "run", "./internal/buildwasm", "-o", dir)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("building the wasm: %v", err)
	}
	for _, f := range []string{"klppo.wasm", "wasm_exec.js"} {
		fresh, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(filepath.Join("site", "static", f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fresh, committed) {
			t.Errorf("web/site/static/%s is stale (%d bytes, a fresh build has %d): run `go generate ./web` and commit it", f, len(committed), len(fresh))
		}
	}
}
