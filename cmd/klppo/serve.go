package main

// `klppo serve`: the KL explainer pages and a read-only view of the runs directory in a browser.
// The pages compute their numbers with package kl compiled to WebAssembly (web/wasm), so
// `--export DIR` writes a static copy that works from any file server.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"klppo/web"
)

func init() {
	register("serve", "the KL explainer pages and your runs in a browser (local, read-only; --export DIR for a static copy)", serveCmd)
}

// serveOptions are the flags of klppo serve.
type serveOptions struct {
	addr   string // host:port to listen on; 127.0.0.1 so that only this machine can connect
	runs   string // directory whose runs are listed (read-only; nothing outside it is served)
	export string // write a static copy of the explainer pages into this directory and exit
	force  bool   // --export into a directory that already holds files
}

func serveCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "[--addr 127.0.0.1:8080] [--runs DIR] | --export DIR [--runs DIR] [--force]", stderr)
	var o serveOptions
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on (host:port; keep 127.0.0.1 unless you mean to share the pages; port 0 picks a free one)")
	fs.StringVar(&o.runs, "runs", "runs", "directory of runs to show (train, compare, vae, distill, rlhf outputs); read-only")
	fs.StringVar(&o.export, "export", "", "write a static copy of the site into `DIR` (works offline from any static file server) and exit; DIR must be new or empty; with --runs given, the copy includes a snapshot of those runs")
	fs.BoolVar(&o.force, "force", false, "with --export: write into a directory that already holds files (never into a run directory)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	exporting, withRuns := false, false
	fs.Visit(func(f *flag.Flag) {
		exporting = exporting || f.Name == "export"
		withRuns = withRuns || f.Name == "runs"
	})
	if o.force && !exporting {
		return usagef("--force: only meaningful with --export DIR")
	}
	if exporting {
		if o.export == "" {
			return usagef(`--export "": give the directory to write the static site into`)
		}
		opt := web.ExportOptions{Force: o.force}
		if withRuns { // --runs given with --export: the copy includes a snapshot of those runs
			if st, err := os.Stat(o.runs); err != nil || !st.IsDir() {
				return usagef("--runs %s: not a directory of runs", o.runs)
			}
			opt.Runs = o.runs
		}
		if err := web.Export(o.export, opt); err != nil {
			if errors.Is(err, web.ErrExportNotEmpty) || errors.Is(err, web.ErrExportRunDir) || errors.Is(err, web.ErrExportNotDir) || errors.Is(err, web.ErrExportInRuns) || errors.Is(err, web.ErrExportLink) {
				return usagef("--export %s: %v", o.export, strings.TrimPrefix(err.Error(), "web: export: "))
			}
			return fmt.Errorf("--export %s: %w", o.export, err)
		}
		what := "no runs (give --runs DIR to include a snapshot of them)"
		if opt.Runs != "" {
			what = "a snapshot of the runs in " + opt.Runs
		}
		fmt.Fprintf(stdout, "klppo serve: static site written to %s, with %s\n  view it with any static file server, e.g.: python3 -m http.server -d %s 8000\n  then open http://127.0.0.1:8000/\n", o.export, what, o.export)
		return nil
	}
	ctx, stop := interruptible()
	defer stop()
	return serve(ctx, o, stdout, stderr)
}

// serve listens on o.addr and serves until ctx is cancelled. It prints the URL first.
func serve(ctx context.Context, o serveOptions, stdout, stderr io.Writer) error {
	if st, err := os.Stat(o.runs); err == nil && !st.IsDir() {
		return usagef("--runs %s: not a directory", o.runs)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return usagef("--runs %s: %v", o.runs, err)
	}
	host, port, err := net.SplitHostPort(o.addr)
	if err != nil {
		return usagef("--addr %s: %v (want host:port, e.g. 127.0.0.1:8080)", o.addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil && port != "" {
		return usagef("--addr %s: port %q: want a number from 0 to 65535 (0 picks a free one)", o.addr, port)
	}
	srv, err := web.NewServer(o.runs)
	if err != nil {
		return usagef("--runs %s: %v", o.runs, err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		var dnsErr *net.DNSError
		switch {
		case errors.Is(err, syscall.EADDRINUSE):
			return fmt.Errorf("--addr %s: the port is already in use (another klppo serve?); pick another, e.g. --addr 127.0.0.1:8081", o.addr)
		case errors.As(err, &dnsErr), errors.Is(err, syscall.EADDRNOTAVAIL):
			return usagef("--addr %s: %v (not an address of this machine)", o.addr, err)
		}
		return fmt.Errorf("--addr %s: %w", o.addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(stderr, "klppo serve: warning: listening on %s, reachable from other machines (the pages and your runs are read-only)\n", o.addr)
	}
	url := "http://" + ln.Addr().String() + "/"
	if _, err := os.Stat(o.runs); err != nil {
		fmt.Fprintf(stderr, "klppo serve: %s does not exist yet; runs will appear once it does\n", o.runs)
	}
	fmt.Fprintf(stdout, "klppo serve: open %s\n  explainers: %sexplain/coin/ …   runs (read-only, from %s): %sruns/\n  Ctrl-C stops the server\n", url, url, o.runs, url)
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := hs.Shutdown(sctx); err != nil {
			return fmt.Errorf("serve: shutdown: %w", err)
		}
		return nil
	}
}
