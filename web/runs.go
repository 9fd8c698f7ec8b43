package web

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

// A run is any directory under --runs that holds a metrics.csv, a sweep.json or a runs.csv.
// Its kind is read from its files, so that new kinds of run (rlhf) appear without changes here:
//
//	compare  sweep.json or runs.csv (klppo compare); its per-seed runs are shown on its page
//	train    metrics.csv starting "update,global_step" (klppo train)
//	vae      metrics.csv starting "epoch,beta" (klppo vae)
//	distill  metrics.csv starting "model,epoch" (klppo distill)
//	rlhf     metrics.csv with proxy_reward or kl_ref columns, or a path or config naming rlhf
//	run      any other directory with a metrics.csv

// RunInfo is one row of the runs list.
type RunInfo struct {
	Name     string    `json:"name"` // path relative to the runs directory
	Kind     string    `json:"kind"`
	Modified time.Time `json:"modified"` // newest file
	AgeS     float64   `json:"age_s"`    // seconds since Modified
	Rows     int       `json:"rows"`     // data rows of metrics.csv (or runs.csv)
	Summary  any       `json:"summary,omitempty"`
}

// RunData is everything a run page draws.
type RunData struct {
	RunInfo
	Files   []FileInfo          `json:"files"`
	Config  any                 `json:"config,omitempty"` // config.json / sweep.json, parsed
	Tables  map[string]*CSVData `json:"tables"`           // CSV files by path relative to the run
	Images  []string            `json:"images"`           // PNG files relative to the run
	Subruns []string            `json:"subruns,omitempty"`
}

// FileInfo describes one file of a run.
type FileInfo struct {
	Name     string    `json:"name"`
	Size     int64     `json:"size"`
	Modified time.Time `json:"modified"`
}

// CSVData is a CSV file: its header and rows (cells as text; the page parses numbers).
type CSVData struct {
	Header []string   `json:"header"`
	Rows   [][]string `json:"rows"`
}

var errNotRun = errors.New("not a run directory")

const (
	maxDepth     = 4       // how deep ListRuns looks under the runs directory
	maxCSVBytes  = 8 << 20 // larger CSV files are cut (the page says so by their row count)
	maxSubruns   = 200
	maxListCount = 1000
)

// isRunDir reports whether the entries of a directory make it a run.
func isRunDir(names map[string]bool) bool {
	return names["metrics.csv"] || names["sweep.json"] || names["runs.csv"]
}

// ListRuns walks fsys (the runs directory) and returns its runs, newest first. The per-seed runs
// inside a comparison are not listed separately.
func ListRuns(fsys fs.FS) ([]RunInfo, error) {
	var out []RunInfo
	now := time.Now()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == "." {
				return err
			}
			return nil // an unreadable subdirectory is skipped, not fatal
		}
		if !d.IsDir() {
			return nil
		}
		if strings.Count(p, "/") >= maxDepth || (p != "." && strings.HasPrefix(path.Base(p), ".")) {
			return fs.SkipDir
		}
		names, err := dirNames(fsys, p)
		if err != nil || !isRunDir(names) || p == "." {
			return nil
		}
		info, err := runInfo(fsys, p, names, now)
		if err != nil {
			return nil
		}
		out = append(out, info)
		if len(out) >= maxListCount {
			return fs.SkipAll
		}
		if info.Kind == "compare" {
			return fs.SkipDir
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: list runs: %w", err)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Modified.Equal(out[j].Modified) {
			return out[i].Modified.After(out[j].Modified)
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

func dirNames(fsys fs.FS, dir string) (map[string]bool, error) {
	es, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	m := map[string]bool{}
	for _, e := range es {
		m[e.Name()] = true
	}
	return m, nil
}

// firstLine returns the first line of a file (its CSV header).
func firstLine(fsys fs.FS, name string) string {
	f, err := fsys.Open(name)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	if sc.Scan() {
		return sc.Text()
	}
	return ""
}

// kindOf classifies a run directory from its files.
func kindOf(fsys fs.FS, dir string, names map[string]bool) string {
	if names["sweep.json"] || names["runs.csv"] {
		return "compare"
	}
	h := firstLine(fsys, path.Join(dir, "metrics.csv"))
	cfg := ""
	if names["config.json"] {
		if b, err := fs.ReadFile(fsys, path.Join(dir, "config.json")); err == nil {
			cfg = strings.ToLower(string(b))
		}
	}
	switch {
	case strings.Contains(h, "proxy_reward") || strings.Contains(h, "kl_ref") || strings.Contains(strings.ToLower(dir), "rlhf") || strings.Contains(cfg, "rlhf"):
		return "rlhf"
	case strings.HasPrefix(h, "update,global_step"):
		return "train"
	case strings.HasPrefix(h, "epoch,beta"):
		return "vae"
	case strings.HasPrefix(h, "model,epoch"):
		return "distill"
	}
	return "run"
}

func runInfo(fsys fs.FS, dir string, names map[string]bool, now time.Time) (RunInfo, error) {
	info := RunInfo{Name: dir, Kind: kindOf(fsys, dir, names)}
	es, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return info, err
	}
	for _, e := range es {
		if fi, err := e.Info(); err == nil && fi.ModTime().After(info.Modified) {
			info.Modified = fi.ModTime()
		}
	}
	main := "metrics.csv"
	if info.Kind == "compare" {
		main = "runs.csv"
	}
	info.Rows = countRows(fsys, path.Join(dir, main))
	if b, err := fs.ReadFile(fsys, path.Join(dir, "summary.json")); err == nil {
		var v any
		if json.Unmarshal(b, &v) == nil {
			info.Summary = v
		}
	}
	info.AgeS = now.Sub(info.Modified).Seconds()
	return info, nil
}

// countRows counts the complete data rows of a CSV file (as readCSV reads them).
func countRows(fsys fs.FS, name string) int {
	t, err := readCSV(fsys, name)
	if err != nil {
		return 0
	}
	return len(t.Rows)
}

// LoadRun reads the run at name (a valid fs path inside fsys) for its page: its files, its
// configuration, every CSV file (for a comparison also those of its per-seed runs) and its images.
func LoadRun(fsys fs.FS, name string) (*RunData, error) {
	names, err := dirNames(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", name, err)
	}
	if !isRunDir(names) {
		return nil, fmt.Errorf("run %s: %w (no metrics.csv, sweep.json or runs.csv)", name, errNotRun)
	}
	info, err := runInfo(fsys, name, names, time.Now())
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", name, err)
	}
	d := &RunData{RunInfo: info, Tables: map[string]*CSVData{}, Images: []string{}, Files: []FileInfo{}}
	es, err := fs.ReadDir(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", name, err)
	}
	for _, e := range es {
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() {
			if e.IsDir() && info.Kind == "compare" {
				d.Subruns = append(d.Subruns, findSubruns(fsys, name, e.Name())...)
			}
			continue
		}
		d.Files = append(d.Files, FileInfo{Name: e.Name(), Size: fi.Size(), Modified: fi.ModTime()})
		switch strings.ToLower(path.Ext(e.Name())) {
		case ".csv":
			if t, err := readCSV(fsys, path.Join(name, e.Name())); err == nil {
				d.Tables[e.Name()] = t
			}
		case ".png", ".svg", ".jpg":
			d.Images = append(d.Images, e.Name())
		}
	}
	for _, cfg := range []string{"config.json", "sweep.json"} {
		if b, err := fs.ReadFile(fsys, path.Join(name, cfg)); err == nil {
			var v any
			if json.Unmarshal(b, &v) == nil {
				d.Config = v
				break
			}
		}
	}
	if len(d.Subruns) > maxSubruns {
		d.Subruns = d.Subruns[:maxSubruns]
	}
	for _, sr := range d.Subruns {
		for _, f := range []string{"metrics.csv", "episodes.csv"} {
			if t, err := readCSV(fsys, path.Join(name, sr, f)); err == nil {
				d.Tables[path.Join(sr, f)] = t
			}
		}
	}
	return d, nil
}

// findSubruns returns the run directories at or under dir (relative to the comparison run).
func findSubruns(fsys fs.FS, run, dir string) []string {
	var out []string
	_ = fs.WalkDir(fsys, path.Join(run, dir), func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if names, err := dirNames(fsys, p); err == nil && names["metrics.csv"] {
			out = append(out, strings.TrimPrefix(p, run+"/"))
			return fs.SkipDir
		}
		return nil
	})
	return out
}

// readCSV reads a CSV file leniently: a run being written may end in a partial line, which is
// dropped (only text up to the last newline is read), as are rows whose field count differs from
// the header's. Files larger than maxCSVBytes are read up to that size.
func readCSV(fsys fs.FS, name string) (*CSVData, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCSVBytes))
	if err != nil {
		return nil, err
	}
	b = b[:bytes.LastIndexByte(b, '\n')+1]
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: empty", name)
	}
	t := &CSVData{Header: recs[0], Rows: [][]string{}}
	for _, rec := range recs[1:] {
		if len(rec) == len(t.Header) {
			t.Rows = append(t.Rows, rec)
		}
	}
	return t, nil
}
