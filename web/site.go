package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

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
	Dir  string // "" for the root, "explain/coin", "runs", "runs/view"
	Kind string // "index", "explain", "runs", "run"
	Page *explain.Page
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
	data := map[string]any{"Root": root, "Kind": sp.Kind, "Pages": explain.Pages, "Page": sp.Page}
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

// Export writes a static copy of the site into dir (created if missing; existing files of the
// same names are replaced): every explainer page, the runs pages (which show how to start the
// server, since a static copy has no runs API) and the assets including klppo.wasm. Serve dir
// with any static file server, e.g. `python3 -m http.server -d DIR`.
func Export(dir string) error {
	for _, sp := range sitePages() {
		b, err := sp.render()
		if err != nil {
			return err
		}
		d := filepath.Join(dir, filepath.FromSlash(sp.Dir))
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("web: export: %w", err)
		}
		if err := os.WriteFile(filepath.Join(d, "index.html"), b, 0o644); err != nil {
			return fmt.Errorf("web: export: %w", err)
		}
	}
	st := Static()
	return fs.WalkDir(st, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dir, "static", filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := fs.ReadFile(st, p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(target, b, 0o644); err != nil {
			return fmt.Errorf("web: export: %w", err)
		}
		return nil
	})
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
<body data-kind="{{.Kind}}" data-root="{{.Root}}"{{if .Page}} data-page="{{.Page.Slug}}"{{end}}>
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
