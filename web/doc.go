// Package web is the site behind `klppo serve`: the KL explainer pages and a read-only view of a
// runs directory, with every asset embedded (no CDN; it works offline).
//
// Layout:
//
//   - explain/       the explainer pages in pure Go (package kl for every number)
//   - wasm/          the GOOS=js GOARCH=wasm main that exposes explain and kl to the browser
//   - site/static/   hand-written CSS and JavaScript (SVG charts, page drivers) and the generated
//     klppo.wasm + wasm_exec.js (`go generate ./web`, see internal/buildwasm)
//   - site.go        the HTML of every page, from one template and explain.Pages; Export
//   - server.go      Server: the pages, /static/, and the JSON API over the runs directory
//   - runs.go        ListRuns and LoadRun: which directories are runs, of which kind, and their data
//
// The browser computes: an explainer page loads klppo.wasm and calls klppo.compute(slug, query),
// which runs the Page's Compute in Go and returns the view (headline values, charts) as JSON; the
// JavaScript only draws it. The server never computes a divergence, so a static copy written by
// Export shows the same numbers from any file server.
//
// Safety: Server answers only GET and HEAD and opens run files through an os.Root on the runs
// directory, which refuses "..", absolute paths and symbolic links that leave it.
package web
