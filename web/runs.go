package web

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"klppo/internal/fileio"
	"klppo/internal/rundir"
)

// A run is a directory under --runs that holds one of rundir.Markers (run.json, metrics.csv,
// summary.json, …). Its kind is what the run states in its run.json (rundir.KindFile), written by
// the command that made it; a run without one (written before runs stated their kind) is shown
// with generic charts and the kind "" — the viewer never guesses a kind from a path or from
// column names.
//
// Every file is read through fileio.ReadFileFS with a size limit: a FIFO named metrics.csv is
// refused instead of blocking the server, and a huge config.json is refused instead of being read
// whole. What the list needs of a run is cached by the size and modification time of the run's
// files, so that polling the list reads a file again only when it changed.

// RunInfo is one row of the runs list.
type RunInfo struct {
	Name     string    `json:"name"`      // path relative to the runs directory (or to the parent run, for a child)
	Kind     string    `json:"kind"`      // as the run states it in run.json; "" when it does not
	KindName string    `json:"kind_name"` // what the kind is, in words
	Finished bool      `json:"finished"`  // the command that writes the run is done with it (see runState)
	State    string    `json:"state"`     // "finished", "stopped (interrupted)", "being written", …
	Modified time.Time `json:"modified"`  // newest file
	AgeS     float64   `json:"age_s"`     // seconds since Modified
	Rows     int       `json:"rows"`      // data rows of the run's main table (metrics.csv, runs.csv, …)
	Headline string    `json:"headline"`  // the run in one line, for the list
	Problems []string  `json:"problems,omitempty"`
}

// RunData is everything a run page draws.
type RunData struct {
	RunInfo
	Files       []FileInfo          `json:"files"`
	Config      any                 `json:"config,omitempty"`  // config.json or sweep.json, parsed
	Summary     any                 `json:"summary,omitempty"` // summary.json, parsed
	Tables      map[string]*CSVData `json:"tables"`            // CSV files by path relative to the run
	Images      []string            `json:"images"`            // PNG/SVG/JPEG files relative to the run
	Children    []RunInfo           `json:"children,omitempty"`
	Story       *TrainStory         `json:"story,omitempty"`
	Samples     []SampleRow         `json:"samples,omitempty"`
	RewardModel *RMWords            `json:"reward_model,omitempty"`
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

// col returns the index of column name, or -1.
func (t *CSVData) col(name string) int {
	for i, h := range t.Header {
		if h == name {
			return i
		}
	}
	return -1
}

var errNotRun = errors.New("not a run directory")

const (
	maxDepth      = 5        // how deep the list looks under the runs directory
	maxCSVBytes   = 32 << 20 // larger CSV files are not drawn (the page says so and links them)
	maxJSONBytes  = fileio.SmallFile
	maxChildren   = 200
	maxListCount  = 1000
	liveAge       = 20 * time.Second // a run changed this recently is marked live
	unknownQuietS = 60               // a run without a kind counts as finished after this long without a change
)

// Runs reads the runs under one directory. It is safe for concurrent use.
type Runs struct {
	fsys fs.FS
	dir  string // the runs directory as given to the server (to resolve paths that runs record)

	mu    sync.Mutex
	cache map[string]cachedInfo
}

type cachedInfo struct {
	sig  string
	info RunInfo
}

// NewRuns returns a reader of the runs in fsys (for the server, the FS of an os.Root on the runs
// directory). dir is that directory's path, used only to map paths recorded in a run (such as
// the rm_dir of an RLHF run) into fsys; "" maps none.
func NewRuns(fsys fs.FS, dir string) *Runs {
	return &Runs{fsys: fsys, dir: dir, cache: map[string]cachedInfo{}}
}

// ListRuns lists the runs of fsys (see Runs.List).
func ListRuns(fsys fs.FS) ([]RunInfo, error) { return NewRuns(fsys, "").List() }

// LoadRun reads one run of fsys (see Runs.Load).
func LoadRun(fsys fs.FS, name string) (*RunData, error) { return NewRuns(fsys, "").Load(name) }

// fileStat is one entry of a run directory.
type fileStat struct {
	name    string
	size    int64
	mod     time.Time
	regular bool   // a regular file (or a link to one inside the runs directory)
	dir     bool   // a directory (not followed if it is a link)
	odd     string // why an entry that is neither is not read ("a named pipe", …)
}

// dirScan is a run directory's entries.
type dirScan struct {
	files []fileStat
	by    map[string]fileStat
}

func (s dirScan) has(name string) bool { f, ok := s.by[name]; return ok && f.regular }

// sig is a signature of the directory's files: it changes when any file is added, removed,
// resized or rewritten.
func (s dirScan) sig() string {
	var b strings.Builder
	for _, f := range s.files {
		fmt.Fprintf(&b, "%s\x00%d\x00%d\x00%v\n", f.name, f.size, f.mod.UnixNano(), f.regular)
	}
	return b.String()
}

func (s dirScan) newest() time.Time {
	var t time.Time
	for _, f := range s.files {
		if f.regular && f.mod.After(t) {
			t = f.mod
		}
	}
	return t
}

func scanDir(fsys fs.FS, dir string) (dirScan, error) {
	es, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return dirScan{}, err
	}
	s := dirScan{by: map[string]fileStat{}}
	for _, e := range es {
		if e.Name() == rundir.LockFile {
			continue // the lock a run holds while it writes (rundir.Lock), not one of its files
		}
		f := fileStat{name: e.Name(), dir: e.IsDir()}
		fi, err := e.Info()
		if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			// A link is read only if it leads to a regular file inside the runs directory.
			if fi, err = fs.Stat(fsys, path.Join(dir, e.Name())); err != nil {
				f.odd = "a link that cannot be followed inside the runs directory"
			} else if fi.IsDir() {
				f.odd = "a link to a directory (not followed)"
			}
		}
		switch {
		case f.odd != "" || f.dir:
		case err != nil:
			f.odd = err.Error()
		case fi.Mode().IsRegular():
			f.size, f.mod, f.regular = fi.Size(), fi.ModTime(), true
		default:
			f.odd = "not a regular file (" + fi.Mode().Type().String() + ")"
			if fi.Mode()&fs.ModeNamedPipe != 0 {
				f.odd = "not a regular file (a named pipe): not read"
			}
		}
		s.files = append(s.files, f)
		s.by[f.name] = f
	}
	return s, nil
}

// isRun reports whether a directory's entries make it a run: any of rundir.Markers.
func isRun(s dirScan) bool {
	for _, m := range rundir.Markers {
		if _, ok := s.by[m]; ok {
			return true
		}
	}
	return false
}

// container reports whether runs of this kind hold many runs of their own, shown on their page
// rather than in the list.
func container(kind string) bool {
	return kind == string(rundir.KindCompare) || kind == string(rundir.KindRLHFSweep) || kind == string(rundir.KindRLHFLeash)
}

// List walks the runs directory and returns its runs, newest first. The runs inside a comparison
// or an RLHF sweep are not listed on their own (their parent's page lists them).
func (r *Runs) List() ([]RunInfo, error) {
	var out []RunInfo
	now := time.Now()
	err := fs.WalkDir(r.fsys, ".", func(p string, d fs.DirEntry, err error) error {
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
		if p == "." {
			return nil
		}
		s, err := scanDir(r.fsys, p)
		if err != nil || !isRun(s) {
			return nil
		}
		info := r.info(p, s, now)
		out = append(out, info)
		if len(out) >= maxListCount {
			return fs.SkipAll
		}
		if container(info.Kind) {
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

// info returns the list row of the run at dir, from the cache when none of its files changed.
func (r *Runs) info(dir string, s dirScan, now time.Time) RunInfo {
	sig := s.sig()
	r.mu.Lock()
	c, ok := r.cache[dir]
	r.mu.Unlock()
	if !ok || c.sig != sig {
		c = cachedInfo{sig: sig, info: r.read(dir, s, false).RunInfo}
		r.mu.Lock()
		r.cache[dir] = c
		r.mu.Unlock()
	}
	info := c.info
	info.AgeS = now.Sub(info.Modified).Seconds()
	if info.Kind == "" && !info.Finished && info.AgeS > unknownQuietS {
		info.Finished, info.State = true, "no file changed for a minute"
	}
	return info
}

// loaded is what the list and a page both read of a run: its kind, summary, config and main
// tables.
type loaded struct {
	RunData
	scan    dirScan
	summary map[string]any
	config  map[string]any
}

// read reads a run's kind, summary, config and CSV tables (bounded: every CSV file for a page
// (all), only the main table for the list), and derives its state and headline. Problems
// collects what could not be read.
func (r *Runs) read(dir string, s dirScan, all bool) *loaded {
	l := &loaded{scan: s}
	l.Name = dir
	l.Modified = s.newest()
	l.Tables = map[string]*CSVData{}
	l.Images = []string{}
	l.Files = []FileInfo{}
	if s.has(rundir.KindFile) {
		b, err := r.readFile(dir, rundir.KindFile, maxJSONBytes)
		if err == nil {
			var k rundir.Kind
			if k, err = rundir.ParseKind(b); err == nil {
				l.Kind = string(k)
			}
		}
		if err != nil {
			l.problem(rundir.KindFile, err)
		}
	}
	l.KindName = kindName(l.Kind)
	if s.has("summary.json") {
		if v, err := r.readJSON(dir, "summary.json"); err != nil {
			l.problem("summary.json", err)
		} else {
			l.Summary = v
			l.summary, _ = v.(map[string]any)
		}
	}
	for _, name := range []string{"config.json", "sweep.json"} {
		if !s.has(name) {
			continue
		}
		v, err := r.readJSON(dir, name)
		if err != nil {
			l.problem(name, err)
			continue
		}
		if l.Config == nil {
			l.Config = v
			l.config, _ = v.(map[string]any)
		}
	}
	for _, f := range s.files {
		if f.odd != "" {
			l.Problems = append(l.Problems, f.name+": "+f.odd)
		}
		if !f.regular {
			continue
		}
		l.Files = append(l.Files, FileInfo{Name: f.name, Size: f.size, Modified: f.mod})
		switch strings.ToLower(path.Ext(f.name)) {
		case ".csv":
			if !all && f.name != mainTable(l.Kind) {
				continue
			}
			t, err := r.readCSV(path.Join(dir, f.name))
			if err != nil {
				l.problem(f.name, err)
				continue
			}
			l.Tables[f.name] = t
		case ".png", ".svg", ".jpg", ".jpeg":
			l.Images = append(l.Images, f.name)
		}
	}
	if t := l.Tables[mainTable(l.Kind)]; t != nil {
		l.Rows = len(t.Rows)
	}
	l.Finished, l.State = runState(l)
	l.Headline = r.headline(l)
	return l
}

func (l *loaded) problem(file string, err error) {
	l.Problems = append(l.Problems, fmt.Sprintf("%s: %v", file, err))
}

// mainTable names the CSV file whose rows the list counts.
func mainTable(kind string) string {
	switch kind {
	case string(rundir.KindCompare):
		return "runs.csv"
	case string(rundir.KindRLHFBoN):
		return "bon.csv"
	case string(rundir.KindRLHFSweep):
		return "frontier.csv"
	case string(rundir.KindRLHFLeash):
		return "leash.csv"
	case string(rundir.KindRLHFFrontier):
		return "frontier-methods.csv"
	}
	return "metrics.csv"
}

// runState says whether the command that writes a run is done with it, from the files each
// command writes last (its "marker"):
//
//	train, rlhf-ppo   summary.json, not older than metrics.csv (a resumed run appends to
//	(-grpo, -rloo)
//	                  metrics.csv after an earlier session's summary); stopped/complete in it
//	                  tell an interrupted run from a complete one
//	compare           runs.csv without a "pending" row (every run done, failed or interrupted)
//	rlhf-sweep        sweep.json (written after every run)
//	rlhf-leash        leash.md (written once every run finished)
//	rlhf              story-beta.png (the last of the story charts, written after both runs)
//	rlhf-sft, -rm     summary.json (written after the model)
//	distill           summary.json (written last)
//	vae               kl.png (written after metrics.csv and samples.png)
//	rlhf-bon          bon.csv (written at the end)
//	rlhf-estimators   rlhf-estimators.png
//	rlhf-dpo          as rlhf-ppo (the evaluations in metrics.csv, summary.json last)
//	rlhf-drift        drift.md;  rlhf-frontier  frontier-methods.md (written after every run)
//
// A run without a kind counts as finished once no file has changed for a minute (see info).
func runState(l *loaded) (bool, string) {
	s := l.scan
	done := func(marker string) (bool, string) {
		if s.has(marker) {
			return true, "finished"
		}
		return false, "being written"
	}
	switch rundir.Kind(l.Kind) {
	case rundir.KindTrain, rundir.KindRLHFPPO, rundir.KindRLHFGRPO, rundir.KindRLHFRLOO, rundir.KindRLHFDPO:
		sum, ok := s.by["summary.json"]
		if !ok || !sum.regular || sum.mod.Before(s.by["metrics.csv"].mod) || l.summary == nil {
			return false, "being written"
		}
		if stopped, _ := l.summary["stopped"].(string); stopped != "" {
			return true, "stopped (" + stopped + ")"
		}
		if complete, ok := l.summary["complete"].(bool); ok && !complete {
			return true, "stopped before its last update"
		}
		return true, "finished"
	case rundir.KindCompare:
		t := l.Tables["runs.csv"]
		if t == nil || len(t.Rows) == 0 {
			return false, "being written"
		}
		st, counts := t.col("status"), map[string]int{}
		for _, row := range t.Rows {
			if st >= 0 {
				counts[row[st]]++
			}
		}
		switch {
		case counts["pending"] > 0:
			return false, "being written"
		case counts["interrupted"] > 0:
			return true, fmt.Sprintf("stopped (%d interrupted: --resume continues)", counts["interrupted"])
		}
		return true, "finished"
	case rundir.KindRLHFSweep:
		return done("sweep.json")
	case rundir.KindRLHFLeash:
		return done("leash.md") // written only once every run finished
	case rundir.KindRLHFStory:
		return done("story-beta.png")
	case rundir.KindRLHFSFT, rundir.KindRLHFRM, rundir.KindDistill:
		return done("summary.json")
	case rundir.KindVAE:
		return done("kl.png")
	case rundir.KindRLHFBoN:
		return done("bon.csv")
	case rundir.KindEstimators:
		return done("rlhf-estimators.png")
	case rundir.KindRLHFDrift:
		return done("drift.md")
	case rundir.KindRLHFFrontier:
		return done("frontier-methods.md")
	}
	return false, "kind not stated"
}

// Load reads the run at name (a valid fs path inside the runs directory) for its page: its
// files, configuration, summary, every CSV file, its images, the runs it holds (for a comparison,
// an RLHF story or sweep also their metrics.csv, which the page overlays) and what its kind
// adds: the story of a training run, the samples and the reward model's words of an RLHF run.
func (r *Runs) Load(name string) (*RunData, error) {
	s, err := scanDir(r.fsys, name)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", name, err)
	}
	if !isRun(s) {
		return nil, fmt.Errorf("run %s: %w (none of %s)", name, errNotRun, strings.Join(rundir.Markers, ", "))
	}
	l := r.read(name, s, true)
	l.AgeS = time.Since(l.Modified).Seconds()
	if l.Kind == "" && !l.Finished && l.AgeS > unknownQuietS {
		l.Finished, l.State = true, "no file changed for a minute"
	}
	now := time.Now()
	for _, c := range r.children(name) {
		cs, err := scanDir(r.fsys, path.Join(name, c))
		if err != nil {
			continue
		}
		ci := r.info(path.Join(name, c), cs, now)
		ci.Name = c
		l.Children = append(l.Children, ci)
		if ci.Modified.After(l.Modified) { // a sweep is as recent as its newest run
			l.Modified, l.AgeS = ci.Modified, ci.AgeS
		}
		if overlays(l.Kind) {
			if t, err := r.readCSV(path.Join(name, c, "metrics.csv")); err == nil {
				l.Tables[path.Join(c, "metrics.csv")] = t
			}
		}
	}
	switch rundir.Kind(l.Kind) {
	case rundir.KindTrain:
		l.Story = trainStory(l)
	case rundir.KindRLHFPPO, rundir.KindRLHFGRPO, rundir.KindRLHFRLOO:
		l.Samples = r.samples(name, l.summary)
		l.RewardModel = r.rewardModelOf(name, l.config)
	case rundir.KindRLHFRM:
		l.RewardModel = rmWords(name, l.summary)
	case rundir.KindRLHFStory:
		// The story command writes its two runs into no-leash/ and leash/.
		for _, c := range []string{"no-leash", "leash"} {
			dir := path.Join(name, c)
			v, _ := r.readJSON(dir, "summary.json")
			sum, _ := v.(map[string]any)
			for _, s := range r.samples(dir, sum) {
				s.When = c + ": " + s.When
				l.Samples = append(l.Samples, s)
			}
		}
		if c, err := r.readJSON(path.Join(name, "leash"), "config.json"); err == nil {
			cfg, _ := c.(map[string]any)
			l.RewardModel = r.rewardModelOf(path.Join(name, "leash"), cfg)
		}
	}
	return &l.RunData, nil
}

// overlays reports whether a run's page overlays the metrics of the runs it holds.
func overlays(kind string) bool {
	return container(kind) || kind == string(rundir.KindRLHFStory)
}

// children returns the runs inside run (relative to it), at most maxChildren, in path order.
func (r *Runs) children(run string) []string {
	var out []string
	_ = fs.WalkDir(r.fsys, run, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || p == run {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			return fs.SkipDir
		}
		if len(out) >= maxChildren || strings.Count(strings.TrimPrefix(p, run+"/"), "/") >= maxDepth {
			return fs.SkipDir
		}
		if s, err := scanDir(r.fsys, p); err == nil && isRun(s) {
			out = append(out, strings.TrimPrefix(p, run+"/"))
		}
		return nil
	})
	return out
}

// readFile reads dir/name with fileio.ReadFileFS (regular files only, at most limit bytes).
func (r *Runs) readFile(dir, name string, limit int64) ([]byte, error) {
	b, err := fileio.ReadFileFS(r.fsys, path.Join(dir, name), limit)
	if err != nil {
		// The error names the path inside the runs directory; the page names the file itself.
		return nil, errors.New(strings.TrimPrefix(err.Error(), path.Join(dir, name)+": "))
	}
	return b, nil
}

func (r *Runs) readJSON(dir, name string) (any, error) {
	b, err := r.readFile(dir, name, maxJSONBytes)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	return v, nil
}

// readCSV reads a CSV file leniently: a run being written may end in a partial line, which is
// dropped (only text up to the last newline is read), as are rows whose field count differs from
// the header's. Files over maxCSVBytes and anything but regular files are refused.
func (r *Runs) readCSV(name string) (*CSVData, error) {
	b, err := r.readFile(path.Dir(name), path.Base(name), maxCSVBytes)
	if err != nil {
		return nil, err
	}
	b = b[:bytes.LastIndexByte(b, '\n')+1]
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, errors.New("empty")
	}
	t := &CSVData{Header: recs[0], Rows: [][]string{}}
	for _, rec := range recs[1:] {
		if len(rec) == len(t.Header) {
			t.Rows = append(t.Rows, rec)
		}
	}
	return t, nil
}

// resolve maps a directory recorded in a run (relative to the working directory of the command
// that wrote it, or absolute) to a path inside the runs directory, assuming the server runs in
// the same working directory; "" when it lies outside.
func (r *Runs) resolve(recorded string) string {
	if r.dir == "" || recorded == "" {
		return ""
	}
	base, err := filepath.Abs(r.dir)
	if err != nil {
		return ""
	}
	p, err := filepath.Abs(recorded)
	if err != nil {
		return ""
	}
	rel, err := filepath.Rel(base, p)
	if err != nil || !filepath.IsLocal(rel) {
		return ""
	}
	return filepath.ToSlash(rel)
}
