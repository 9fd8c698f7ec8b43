package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows a command's progress on stderr. On a terminal it is a bar redrawn in place
// (carriage returns); anywhere else — stderr redirected to a file or a pipe, a test's buffer —
// it writes a plain line at every tenth of the work instead, so that a log holds a few readable
// lines rather than thousands of \r frames. A nil *progress (--quiet) shows nothing; every method
// accepts a nil receiver, and all are safe for concurrent use.
type progress struct {
	bar *progressbar.ProgressBar // on a terminal

	mu          sync.Mutex // the plain lines:
	w           io.Writer
	label, desc string
	done, total int64
	nextTenth   int64 // the next tenth of total to report
	start       time.Time
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newProgress returns the progress of total units of work labelled label on w, or nil when
// quiet. opts are extra options of the terminal bar.
func newProgress(w io.Writer, quiet bool, total int64, label string, opts ...progressbar.Option) *progress {
	if quiet {
		return nil
	}
	if !isTerminal(w) {
		return &progress{w: w, label: label, total: max(total, 1), nextTenth: 1, start: time.Now()}
	}
	base := []progressbar.Option{progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(label),
		progressbar.OptionShowCount(), progressbar.OptionThrottle(200 * time.Millisecond), progressbar.OptionClearOnFinish()}
	return &progress{bar: progressbar.NewOptions64(total, append(base, opts...)...)}
}

// Describe sets the text shown next to the bar (and in the next plain line).
func (p *progress) Describe(s string) {
	switch {
	case p == nil:
	case p.bar != nil:
		p.bar.Describe(s)
	default:
		p.mu.Lock()
		p.desc = s
		p.mu.Unlock()
	}
}

// Add advances the progress by n units.
func (p *progress) Add(n int64) {
	switch {
	case p == nil:
	case p.bar != nil:
		_ = p.bar.Add64(n)
	default:
		p.mu.Lock()
		p.setLocked(p.done + n)
		p.mu.Unlock()
	}
}

// Set sets the units done.
func (p *progress) Set(n int64) {
	switch {
	case p == nil:
	case p.bar != nil:
		_ = p.bar.Set64(n)
	default:
		p.mu.Lock()
		p.setLocked(n)
		p.mu.Unlock()
	}
}

// setLocked records done = n and prints a line for every tenth of the work reached.
func (p *progress) setLocked(n int64) {
	p.done = min(n, p.total)
	if p.nextTenth > 10 || p.done < p.nextTenth*p.total/10 {
		return
	}
	for p.nextTenth <= 10 && p.nextTenth*p.total/10 <= p.done {
		p.nextTenth++
	}
	line := fmt.Sprintf("%s: %3.0f%% (%d/%d) after %.0f s", p.label, 100*float64(p.done)/float64(p.total), p.done, p.total,
		time.Since(p.start).Seconds())
	if p.desc != "" && p.desc != p.label {
		line += " — " + p.desc
	}
	fmt.Fprintln(p.w, line)
}

// Clear removes the bar from the terminal (before a line is printed on stdout); plain lines
// need no clearing.
func (p *progress) Clear() {
	if p != nil && p.bar != nil {
		_ = p.bar.Clear()
	}
}

// Finish ends the bar (cleared from the terminal).
func (p *progress) Finish() {
	if p != nil && p.bar != nil {
		_ = p.bar.Finish()
	}
}
