package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"
)

// Server serves the site and a read-only view of one runs directory.
type Server struct {
	mu      sync.Mutex
	runs    *os.Root // nil until the runs directory exists
	reader  *Runs    // reads runs through runs.FS(), caching what the list needs
	runsDir string
	pages   map[string][]byte // site path of a page directory ("", "explain/coin", …) → HTML
	static  http.Handler
}

// NewServer returns a server for runsDir. The directory may not exist yet (the runs page then
// says so and lists runs once it appears); an existing path that is not a directory is an error.
// Nothing outside runsDir is ever read: files are opened through an os.Root, which refuses "..",
// absolute paths and symbolic links that leave the directory.
func NewServer(runsDir string) (*Server, error) {
	if runsDir == "" {
		return nil, errors.New("web: runs directory is empty")
	}
	if st, err := os.Stat(runsDir); err == nil && !st.IsDir() {
		return nil, fmt.Errorf("web: runs directory %s is not a directory", runsDir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("web: runs directory: %w", err)
	}
	s := &Server{runsDir: runsDir, pages: map[string][]byte{}, static: http.StripPrefix("/static/", http.FileServerFS(Static()))}
	for _, sp := range sitePages() {
		b, err := sp.render()
		if err != nil {
			return nil, err
		}
		s.pages[sp.Dir] = b
	}
	return s, nil
}

// Close releases the runs directory.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runs != nil {
		return s.runs.Close()
	}
	return nil
}

// root opens the runs directory on first use (so that a directory created after the server
// started is picked up) and returns it with the reader of its runs.
func (s *Server) root() (*os.Root, *Runs, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runs != nil {
		return s.runs, s.reader, nil
	}
	r, err := os.OpenRoot(s.runsDir)
	if err != nil {
		return nil, nil, err
	}
	s.runs, s.reader = r, NewRuns(r.FS(), s.runsDir)
	return r, s.reader, nil
}

// ServeHTTP implements http.Handler. Only GET and HEAD are served.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "read-only: only GET and HEAD", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/static/"):
		s.static.ServeHTTP(w, r)
		return
	case p == "/api/runs":
		s.apiRuns(w, r)
		return
	case p == "/api/run":
		s.apiRun(w, r)
		return
	case p == "/api/file":
		s.apiFile(w, r)
		return
	}
	dir := strings.Trim(p, "/")
	page, ok := s.pages[dir]
	if !ok {
		http.NotFound(w, r)
		return
	}
	// A page's canonical path is "/" + dir + "/" (relative links need the trailing slash). Any
	// other spelling redirects there, and never to p + "/": for p = "//explain/coin" that would be
	// "//explain/coin/", which a browser reads as the host "explain".
	if want := "/" + dir + "/"; dir != "" && p != want {
		u := want
		if r.URL.RawQuery != "" {
			u += "?" + r.URL.RawQuery
		}
		w.Header().Set("Location", u) // set directly: http.Redirect would rewrite the path
		w.WriteHeader(http.StatusMovedPermanently)
		return
	}
	if dir == "" && p != "/" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(page) // a failed write means the client went away
}

// runPath checks a run or file name from a URL: a slash-separated relative path inside the runs
// directory, without "..", "." or empty elements (fs.ValidPath), so that error messages are
// clear; os.Root enforces the same and also refuses symbolic links out of the directory.
func runPath(name, what string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("missing %s", what)
	}
	if strings.Contains(name, "\\") || !fs.ValidPath(name) || name == "." {
		return "", fmt.Errorf("%s %q: must be a path inside the runs directory (no \"..\", no leading \"/\")", what, name)
	}
	return name, nil
}

func (s *Server) apiRuns(w http.ResponseWriter, r *http.Request) {
	_, reader, err := s.root()
	if err != nil {
		writeJSON(w, http.StatusOK, map[string]any{"dir": s.runsDir, "runs": []RunInfo{}, "missing": true,
			"error": fmt.Sprintf("no runs directory %s yet: start a run with e.g. `klppo train --out %s/NAME`", s.runsDir, s.runsDir)})
		return
	}
	runs, err := reader.List()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"dir": s.runsDir, "runs": runs})
}

func (s *Server) apiRun(w http.ResponseWriter, r *http.Request) {
	name, err := runPath(r.URL.Query().Get("run"), "run")
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	_, reader, err := s.root()
	if err != nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no runs directory " + s.runsDir})
		return
	}
	d, err := reader.Load(name)
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotRun) {
			status = http.StatusNotFound
		}
		writeJSON(w, status, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// apiFile serves one file of a run (an image such as returns.png, or a CSV) read-only; with
// download=1 as an attachment (the browser saves it under its own name). Only regular files are
// served: a FIFO is refused before it is opened (opening it would block).
func (s *Server) apiFile(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	run, err := runPath(q.Get("run"), "run")
	if err == nil {
		_, err = runPath(q.Get("file"), "file")
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	root, _, err := s.root()
	if err != nil {
		http.Error(w, "no runs directory", http.StatusNotFound)
		return
	}
	name := path.Join(run, q.Get("file"))
	if st, err := root.Stat(name); err != nil || !st.Mode().IsRegular() {
		http.Error(w, "not a file: "+name, http.StatusNotFound)
		return
	}
	f, err := root.Open(name)
	if err != nil {
		http.Error(w, "not found: "+name, http.StatusNotFound)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		http.Error(w, "not a file: "+name, http.StatusNotFound)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "text/plain; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-cache")
	if q.Get("download") == "1" {
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(name)}))
	}
	http.ServeContent(w, r, "", st.ModTime(), f)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b) // a failed write means the client went away
}
