package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"klppo/internal/fileio"
	"klppo/internal/rundir"
	"klppo/web/explain"
)

//go:generate go run ./internal/buildwasm -o site/static

// static holds the hand-written CSS and JavaScript and the generated klppo.wasm + wasm_exec.js.
//
//go:embed site/static
var static embed.FS

// Static returns the static assets (app.css, charts.js, explain.js, runs.js, klppo.wasm,
// wasm_exec.js), rooted at the directory that the site serves as /static/.
func Static() fs.FS {
	sub, err := fs.Sub(static, "site/static")
	if err != nil {
		panic(err) // the embedded directory exists by construction
	}
	return sub
}

// sitePage is one of the site's HTML pages (sitePages lists them). Each page is served as
// <dir>/index.html; the server redirects <dir> to <dir>/.
type sitePage struct {
	Dir    string // "" for the root, "explain/coin", "runs", "runs/view"
	Kind   string // "index", "explain", "runs", "run"
	Page   *explain.Page
	Static bool // rendered for a static copy (no runs API)
}

func sitePages() []sitePage {
	ps := []sitePage{{Dir: "", Kind: "index"}, {Dir: "runs", Kind: "runs"}, {Dir: "runs/view", Kind: "run"}}
	for i := range explain.Pages {
		ps = append(ps, sitePage{Dir: "explain/" + explain.Pages[i].Slug, Kind: "explain", Page: &explain.Pages[i]})
	}
	return ps
}

// render returns the HTML of one page.
func (sp sitePage) render() ([]byte, error) {
	root := strings.Repeat("../", strings.Count(sp.Dir, "/")+1)
	if sp.Dir == "" {
		root = ""
	}
	data := map[string]any{"Root": root, "Kind": sp.Kind, "Pages": explain.Pages, "Page": sp.Page, "Static": sp.Static}
	switch sp.Kind {
	case "explain":
		data["Title"] = sp.Page.Title
		data["Intro"] = template.HTML(sp.Page.Intro) // package-internal prose
	case "runs":
		data["Title"] = "Runs"
	case "run":
		data["Title"] = "Run"
	default:
		data["Title"] = "KL divergence, explained and measured"
	}
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("web: render %s: %w", sp.Dir, err)
	}
	return b.Bytes(), nil
}

// ExportOptions are the options of Export.
type ExportOptions struct {
	// Force allows a directory that already holds files (those of the same names as the site's
	// are replaced; a run directory is refused all the same).
	Force bool
	// Runs, when not "", is a runs directory the copy includes as a snapshot: the runs list, the
	// data of every run's page (as the server would answer) and the run's files, each regular file
	// up to MaxExportedFile bytes (larger ones are named in the run's problems and left out). The
	// runs are read as the server reads them (inside an os.Root, bounded, FIFOs refused).
	Runs string
}

// MaxExportedFile bounds each run file a static copy includes.
const MaxExportedFile = 64 << 20

// Errors of Export about its directory (the CLI reports them as bad --export values).
var (
	ErrExportNotEmpty = errors.New("is not empty (pass --force to write the site into it anyway)")
	ErrExportRunDir   = errors.New("holds a run; choose a directory of its own for the site")
	ErrExportNotDir   = errors.New("exists and is not a directory")
	// ErrExportInRuns: the copy of the runs would lie inside the runs directory, where its copies
	// of run files would be listed as runs.
	ErrExportInRuns = errors.New("lies inside the runs directory it would copy; choose a directory outside it")
	// ErrExportLink: a directory the site writes into is a symbolic link leading out of the
	// export directory (it is never written through).
	ErrExportLink = errors.New("is a symbolic link out of the export directory; remove it or choose another directory")
)

// Export writes a static copy of the site into dir: every explainer page, the runs pages and the
// assets including klppo.wasm, and with opt.Runs a snapshot of those runs under api/ (without, the
// runs pages say that the copy has no runs and how to see them with the server). Serve dir with
// any static file server, e.g. `python3 -m http.server -d DIR`.
//
// dir is created if missing. An existing dir must be empty unless opt.Force, and is refused if it
// holds a run (see internal/rundir), whatever opt says. Every file is written through an os.Root
// on dir, removed first and created anew (O_EXCL): a symbolic link in dir (say index.html →
// a file elsewhere) is replaced, never written through, and nothing outside dir is touched.
func Export(dir string, opt ExportOptions) error {
	if dir == "" {
		return fmt.Errorf("web: export: %w", rundir.ErrEmptyPath)
	}
	switch err := rundir.Check(dir); {
	case rundir.HoldsRun(err):
		return fmt.Errorf("web: export: %s %w (%v)", dir, ErrExportRunDir, err)
	case err != nil:
		if fi, serr := os.Stat(dir); serr == nil && !fi.IsDir() {
			return fmt.Errorf("web: export: %s %w", dir, ErrExportNotDir)
		}
		return fmt.Errorf("web: export: %w", err)
	}
	if opt.Runs != "" {
		ad, err1 := filepath.Abs(dir)
		ar, err2 := filepath.Abs(opt.Runs)
		if rel, err := filepath.Rel(ar, ad); err1 == nil && err2 == nil && err == nil && (rel == "." || filepath.IsLocal(rel)) {
			return fmt.Errorf("web: export: %s %w (%s)", dir, ErrExportInRuns, opt.Runs)
		}
	}
	if es, err := os.ReadDir(dir); err == nil && len(es) > 0 && !opt.Force {
		return fmt.Errorf("web: export: %s %w", dir, ErrExportNotEmpty)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("web: export: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("web: export: %w", err)
	}
	defer root.Close()
	// failed explains an error of the root about name: a link among its directories that leads
	// out of dir (the root refuses to follow it) is ErrExportLink naming the link.
	failed := func(name string, err error) error {
		for d := path.Dir(name); d != "." && d != "/"; d = path.Dir(d) {
			if fi, lerr := root.Lstat(d); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
				return fmt.Errorf("web: export: %s %w (%v)", filepath.Join(dir, filepath.FromSlash(d)), ErrExportLink, err)
			}
		}
		return fmt.Errorf("web: export: %w", err)
	}
	write := func(name string, b []byte) error {
		if err := root.MkdirAll(path.Dir(name), 0o755); err != nil {
			return failed(name, err)
		}
		if err := root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return failed(name, err)
		}
		f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return failed(name, err)
		}
		_, err = f.Write(b)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("web: export: %s: %w", name, err)
		}
		return nil
	}
	for _, sp := range sitePages() {
		sp.Static = true
		b, err := sp.render()
		if err != nil {
			return err
		}
		if err := write(path.Join(sp.Dir, "index.html"), b); err != nil {
			return err
		}
	}
	st := Static()
	err = fs.WalkDir(st, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(st, p)
		if err != nil {
			return err
		}
		return write(path.Join("static", p), b)
	})
	if err != nil || opt.Runs == "" {
		return err
	}
	return exportRuns(opt.Runs, write)
}

// exportRuns writes the snapshot of the runs in runsDir that the runs pages of a static copy read:
// api/runs.json (the list), api/run/NAME/index.json (a run's page data) and api/file/NAME/FILE.
// The runs inside a comparison or a sweep are written too, so that their pages' links work.
func exportRuns(runsDir string, write func(string, []byte) error) error {
	root, err := os.OpenRoot(runsDir)
	if err != nil {
		return fmt.Errorf("web: export runs: %w", err)
	}
	defer root.Close()
	r := NewRuns(root.FS(), runsDir)
	list, err := r.List()
	if err != nil {
		return err
	}
	b, err := json.Marshal(map[string]any{"dir": runsDir, "runs": list, "static": true})
	if err != nil {
		return fmt.Errorf("web: export runs: %w", err)
	}
	if err := write("api/runs.json", b); err != nil {
		return err
	}
	var queue []string
	for _, x := range list {
		queue = append(queue, x.Name)
	}
	done := map[string]bool{}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if done[name] {
			continue
		}
		done[name] = true
		d, err := r.Load(name)
		if err != nil {
			continue // gone or unreadable since the listing: the list still names it
		}
		var files []FileInfo
		for _, f := range d.Files {
			data, err := fileio.ReadFileFS(root.FS(), path.Join(name, f.Name), MaxExportedFile)
			if err != nil {
				d.Problems = append(d.Problems, fmt.Sprintf("%s: not in this static copy: %v", f.Name, strings.TrimPrefix(err.Error(), path.Join(name, f.Name)+": ")))
				continue
			}
			if err := write(path.Join("api/file", name, f.Name), data); err != nil {
				return err
			}
			files = append(files, f)
		}
		d.Files = files
		if d.Files == nil {
			d.Files = []FileInfo{}
		}
		for _, c := range d.Children {
			queue = append(queue, path.Join(name, c.Name))
		}
		b, err := json.Marshal(d)
		if err != nil {
			return fmt.Errorf("web: export run %s: %w", name, err)
		}
		if err := write(path.Join("api/run", name, "index.json"), b); err != nil {
			return err
		}
	}
	return nil
}

// ExportedFiles lists the paths (slash-separated, relative to the site root) that Export writes,
// sorted; used to measure the page weight.
func ExportedFiles() ([]string, error) {
	var out []string
	for _, sp := range sitePages() {
		out = append(out, path.Join(sp.Dir, "index.html"))
	}
	err := fs.WalkDir(Static(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, path.Join("static", p))
		}
		return err
	})
	sort.Strings(out)
	return out, err
}

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	// query turns an example's query string (package-internal, not user input) into a link.
	"query": func(q string) template.URL { return template.URL("?" + q) },
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · klppo</title>
<link rel="stylesheet" href="{{.Root}}static/app.css">
</head>
<body data-kind="{{.Kind}}" data-root="{{.Root}}"{{if .Page}} data-page="{{.Page.Slug}}"{{end}}{{if .Static}} data-static="1"{{end}}>
<header class="top">
  <a class="brand" href="{{.Root}}">klppo</a>
  <nav>
    {{range .Pages}}<a href="{{$.Root}}explain/{{.Slug}}/"{{if and $.Page (eq $.Page.Slug .Slug)}} class="here"{{end}}>{{.Slug}}</a>
    {{end}}<a href="{{.Root}}runs/"{{if eq .Kind "runs" "run"}} class="here"{{end}}>runs</a>
  </nav>
</header>
<main>
{{- if eq .Kind "index"}}
<h1>KL divergence, explained and measured</h1>
<p class="lead">Every number on these pages is computed in your browser by klppo's own Go code (package <code>kl</code>, compiled to WebAssembly): the same digits as <code>klppo kl</code> prints. Move the sliders; every state is a link you can share.</p>
<ol class="cards">
{{range .Pages}}<li><a href="{{$.Root}}explain/{{.Slug}}/"><b>{{.Title}}</b></a><br><span>{{.Summary}}</span></li>
{{end}}</ol>
<h2>Your runs</h2>
<p>The <a href="{{.Root}}runs/">runs page</a> lists the training runs, comparisons, VAEs and distillations under the server's <code>--runs</code> directory, with their configuration and charts, refreshing while a run is written.</p>
{{- else if eq .Kind "explain"}}
<h1>{{.Title}}</h1>
<div class="intro">{{.Intro}}</div>
{{with .Page.Examples}}<p class="examples">Try: {{range $i, $e := .}}{{if $i}} · {{end}}<a class="example" href="{{query $e.Query}}">{{$e.Text}}</a>{{end}}</p>{{end}}
<section class="controls">
{{range .Page.Params}}<label class="slider"><span class="name">{{.Label}}</span>
<input type="range" name="{{.Name}}" min="{{.Min}}" max="{{.Max}}" step="{{.Step}}" value="{{.Default}}" data-min="{{.Min}}" data-max="{{.Max}}" data-default="{{.Default}}"{{if .Log}} data-log="1"{{end}}{{if .Int}} data-int="1"{{end}}>
<output for="{{.Name}}"></output></label>
{{end}}</section>
<section class="values" aria-live="polite"><p class="loading">Loading klppo.wasm…</p></section>
<p class="caption"></p>
<section class="charts"></section>
<p class="command">Same numbers in a terminal: <code class="cmd"></code></p>
{{range .Page.AtScale}}<p class="atscale">At scale: <code>{{.Command}}</code> {{.Shows}} (see <code>{{.Doc}}</code>).</p>
{{end}}
<p class="permalink"><a class="link" href="">Link to this view</a></p>
{{- else if eq .Kind "runs"}}
<h1>Runs</h1>
<section class="runs"><p class="loading">Loading…</p></section>
{{- else}}
<h1 class="runname">Run</h1>
<section class="run"><p class="loading">Loading…</p></section>
{{- end}}
</main>
{{if eq .Kind "explain"}}<script src="{{.Root}}static/wasm_exec.js"></script>{{end}}
<script src="{{.Root}}static/charts.js"></script>
{{if eq .Kind "explain"}}<script src="{{.Root}}static/explain.js"></script>{{end}}
{{if eq .Kind "runs" "run"}}<script src="{{.Root}}static/runs.js"></script>{{end}}
</body>
</html>
`))
