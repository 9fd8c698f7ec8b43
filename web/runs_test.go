package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"klppo/internal/rundir"
)

// writeFiles writes files (slash paths relative to dir → content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func kindJSON(k rundir.Kind) string { return `{"kind":"` + string(k) + `"}` }

const trainHeader = "update,global_step,wall_s,sps,episodic_return,kl,approx_kl_k1,approx_kl_k3,beta,clipfrac,entropy,policy_loss,value_loss,explained_variance,lr,epochs\n"

// trainMetrics returns a metrics.csv of a kl-adaptive run whose KL and β are given per update.
func trainMetrics(kl, beta []float64) string {
	var b strings.Builder
	b.WriteString(trainHeader)
	for i := range kl {
		fmt.Fprintf(&b, "%d,%d,1,100,20,%g,%g,%g,%g,0.1,0.6,0,1,0.5,0.00025,4\n", i+1, 512*(i+1), kl[i], kl[i], kl[i], beta[i])
	}
	return b.String()
}

const rlhfHeader = "update,proxy_reward,gold_reward,kl,kl_k1,kl_k3,beta,entropy,length,in_language,ppo_kl,clipfrac,policy_loss,value_loss,tokens,tokens_per_s,wall_s\n"

// fixtureRuns writes one run of every kind (as the commands write them, abridged), a run without
// a kind, and the cases of issues 17 and 21 the viewer used to get wrong.
func fixtureRuns(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	rm := map[string]any{"test_accuracy": 0.8, "gold_accuracy": 0.9, "bias": 0.1,
		"weights": map[string]float64{"great": 1.5, "good": 0.9, "fine": 0.2, "bad": -0.8, "awful": -1.7, "the": 0.01}}
	rmJSON, _ := json.Marshal(rm)
	ppoSum := `{"ref_proxy":0.1,"ref_gold":0.2,"final_proxy":2.5,"final_gold":-0.5,"final_kl":9,"final_in_language":0.3,
		"peak_gold":0.6,"peak_update":2,"kl_coef":0,"kl_ctl":"fixed","kl_in":"reward","kl_estimator":"k1","complete":true,
		"samples_start":["a"],"samples_peak":["b"],"samples_end":["c"]}`
	var samples strings.Builder
	for u := 1; u <= 3; u++ {
		for k := 0; k < 2; k++ {
			fmt.Fprintf(&samples, `{"update":%d,"text":"text %d.%d","proxy_reward":%d,"gold_reward":0.%d,"kl":1,"in_language":%v}`+"\n", u, u, k, u, u, k == 0)
		}
	}
	files := map[string]string{
		// klppo train --out rlhf-x: a training run whose path says rlhf (issue 17)
		"rlhf-x/run.json":     kindJSON(rundir.KindTrain),
		"rlhf-x/config.json":  `{"env_id":"CartPole-v1","penalty":"kl-adaptive:0.01","beta_min":0.0001,"beta_max":10000,"update_epochs":4,"clipfrac_threshold":0.2}`,
		"rlhf-x/metrics.csv":  trainMetrics([]float64{0.001, 0.008, 0.012, 0.02}, []float64{1, 0.0001, 0.0002, 10000}),
		"rlhf-x/summary.json": `{"env_id":"CartPole-v1","penalty":"kl-adaptive:0.01","steps":2048,"final_return":200,"solved_threshold":475,"first_step_return_ge":-1,"stopped":""}`,
		// klppo rlhf sweep: sweep.json like a compare, but an RLHF sweep (issue 21)
		"rs/run.json":                     kindJSON(rundir.KindRLHFSweep),
		"rs/sweep.json":                   `{"config":{"betas":[0,0.5],"seeds":[1]},"runs":[{},{}],"fit_rl":{"peaked":true,"peak_d":2.5}}`,
		"rs/frontier.csv":                 "seed,beta,d,gold\n1,0,3,0.1\n1,0.5,1,0.4\n",
		"rs/seed-1/beta-0/run.json":       kindJSON(rundir.KindRLHFPPO),
		"rs/seed-1/beta-0/metrics.csv":    rlhfHeader,
		"rs/seed-1/rm/run.json":           kindJSON(rundir.KindRLHFRM),
		"rs/seed-1/rm/summary.json":       string(rmJSON),
		"cmp/run.json":                    kindJSON(rundir.KindCompare),
		"cmp/sweep.json":                  `{"env_id":"CartPole-v1"}`,
		"cmp/runs.csv":                    "setting,seed,status,final_return\nclip:0.2,1,ok,480\nnone,1,ok,120\n",
		"cmp/clip_0.2/seed-1/run.json":    kindJSON(rundir.KindTrain),
		"cmp/clip_0.2/seed-1/metrics.csv": trainHeader + "1,128,1,1,20,0.01,0.01,0.01,0,0.1,0.6,0,1,0.5,0.00025,4\n",
		"v/run.json":                      kindJSON(rundir.KindVAE),
		"v/metrics.csv":                   "epoch,beta,train_loss,train_recon,train_kl,test_recon,test_kl,test_elbo,active_dims,seconds\n1,1,2,1,1,1,0.5,-1.5,2,0.1\n",
		"v/kl.png":                        "png",
		"d/run.json":                      kindJSON(rundir.KindDistill),
		"d/metrics.csv":                   "model,epoch,loss\nteacher,1,2\n",
		"d/summary.json":                  `{"teacher_acc":0.97,"distilled_acc":0.9,"labels_acc":0.8,"temperature":4}`,
		"story/run.json":                  kindJSON(rundir.KindRLHFStory),
		"story/leash/run.json":            kindJSON(rundir.KindRLHFPPO),
		"story/leash/config.json":         `{"rm_dir":"RUNS/story/rm"}`,
		"story/leash/metrics.csv":         rlhfHeader + "1,0.1,0.2,0.5,0.5,0.5,0.5,2,5,1,0.01,0.1,0,1,100,10,1\n",
		"story/leash/summary.json":        ppoSum,
		"story/leash/samples.jsonl":       samples.String(),
		"story/no-leash/run.json":         kindJSON(rundir.KindRLHFPPO),
		"story/no-leash/summary.json":     ppoSum,
		"story/rm/run.json":               kindJSON(rundir.KindRLHFRM),
		"story/rm/config.json":            `{"pairs":3000}`,
		"story/rm/summary.json":           string(rmJSON),
		"story/rm/rm.klnn":                "weights",
		"story/sft/run.json":              kindJSON(rundir.KindRLHFSFT),
		"story/sft/metrics.csv":           "epoch,train_ce_token,test_ce_token\n1,2.5,2.4\n2,2.2,2.1\n",
		"story/sft/summary.json":          `{"ce_token":2.1,"h_token":1.9,"kl_token":0.2,"in_language":0.99}`,
		"story/story-beta.png":            "png",
		"bon/run.json":                    kindJSON(rundir.KindRLHFBoN),
		"bon/bon.csv":                     "n,proxy_reward,gold_reward,kl_bound,kl_estimate,in_language,top_sample\n1,0.1,0.2,0,0,1,a\n4,0.5,0.3,0.64,0.6,1,b\n",
		// klppo rlhf grpo: the files of a PPO run, its own kind; klppo rlhf leash: a container
		"grpo1/run.json":                        kindJSON(rundir.KindRLHFGRPO),
		"grpo1/metrics.csv":                     rlhfHeader + "1,0.1,0.2,0.5,0.5,0.5,0,2,5,1,0.01,0.1,0,NaN,100,10,1\n",
		"grpo1/summary.json":                    ppoSum,
		"grpo1/samples.jsonl":                   samples.String(),
		"lsh/run.json":                          kindJSON(rundir.KindRLHFLeash),
		"lsh/leash.json":                        `{"kind":"rlhf-leash","complete":true}`,
		"lsh/leash.csv":                         "method,reward,beta,seed,final_gold\nrloo,rm,0,1,-1\n",
		"lsh/leash.md":                          "| table |",
		"lsh/seed-1/rloo-rm-beta-0/run.json":    kindJSON(rundir.KindRLHFRLOO),
		"lsh/seed-1/rloo-rm-beta-0/metrics.csv": rlhfHeader,
		"est/run.json":                          kindJSON(rundir.KindEstimators),
		"est/rlhf-estimators.png":               "png",
		"legacy/metrics.csv":                    "update,global_step,kl_ref\n1,2,3\n",
		"future/run.json":                       `{"kind":"grpo"}`,
		"future/metrics.csv":                    "step,x\n1,2\n",
		"notarun/notes.txt":                     "x",
		"story/leash/.hidden/run.json":          kindJSON(rundir.KindTrain),
		"cmp/clip_0.2/seed-1/episodes.csv":      "global_step,return,length\n10,10,10\n",
		"rlhf-x/episodes.csv":                   "global_step,return,length\n10,10,10\n",
	}
	files["story/leash/config.json"] = strings.ReplaceAll(files["story/leash/config.json"], "RUNS", filepath.ToSlash(dir))
	writeFiles(t, dir, files)
	// The train run's summary is written after its metrics: finished.
	later := time.Now().Add(time.Second)
	for _, run := range []string{"rlhf-x", "story/leash", "story/no-leash", "grpo1"} {
		if err := os.Chtimes(filepath.Join(dir, filepath.FromSlash(run), "summary.json"), later, later); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func openRuns(t *testing.T, dir string) *Runs {
	t.Helper()
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return NewRuns(r.FS(), dir)
}

// The kind of every run is the one its run.json states: never guessed from a path ("rlhf-x" is a
// training run) or a column (kl_ref); an RLHF sweep is an RLHF sweep, not a compare; reward
// models are listed; the runs of a comparison or a sweep are not listed on their own.
func TestListRunsKinds(t *testing.T) {
	dir := fixtureRuns(t)
	list, err := openRuns(t, dir).List()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]RunInfo{}
	for _, x := range list {
		got[x.Name] = x
	}
	want := map[string]string{"rlhf-x": "train", "rs": "rlhf-sweep", "cmp": "compare", "v": "vae", "d": "distill",
		"story": "rlhf", "story/leash": "rlhf-ppo", "story/no-leash": "rlhf-ppo", "story/rm": "rlhf-rm", "story/sft": "rlhf-sft",
		"bon": "rlhf-bon", "est": "rlhf-estimators", "legacy": "", "future": "grpo", "grpo1": "rlhf-grpo", "lsh": "rlhf-leash"}
	for name, kind := range want {
		x, ok := got[name]
		if !ok || x.Kind != kind {
			t.Errorf("%s: listed %v with kind %q, want %q", name, ok, x.Kind, kind)
		}
	}
	if len(got) != len(want) {
		var names []string
		for n := range got {
			names = append(names, n)
		}
		t.Errorf("listed %v, want exactly %d runs (no seeds of a comparison or sweep, no hidden dirs)", names, len(want))
	}
	// Every kind has a summary line that says something of its own.
	for name, words := range map[string][]string{
		"rlhf-x":      {"CartPole-v1", "kl-adaptive:0.01", "threshold 475 not reached", "KL in band 50 %"},
		"rs":          {"2 β × 1 seeds", "√KL = 2.5"},
		"cmp":         {"2 settings", "2 ok", "480 (clip:0.2)"},
		"v":           {"β 1", "test ELBO -1.5", "2 active"},
		"d":           {"teacher 97 %", "T = 4"},
		"story":       {"no leash: gold -0.5", "peak 0.6"},
		"story/leash": {"β 0 (fixed, k1 in the reward)", "peak 0.6 at update 2", "30 % in the language"},
		"story/rm":    {"held-out accuracy 80 %", `"great" +1.50`, `"awful" -1.70`},
		"story/sft":   {"CE 2.1 = H(P) 1.9 + KL(P‖π_ref) 0.2"},
		"grpo1":       {"peak 0.6 at update 2", "30 % in the language"},
		"bon":         {"n = 1 … 4", "0.2 → 0.3"},
		"est":         {"rlhf-estimators.png"},
	} {
		for _, w := range words {
			if !strings.Contains(got[name].Headline, w) {
				t.Errorf("%s: headline %q lacks %q", name, got[name].Headline, w)
			}
		}
	}
	if !strings.Contains(got["legacy"].KindName, "not stated") || !strings.Contains(got["future"].KindName, "unknown") {
		t.Errorf("kind names: legacy %q, future %q", got["legacy"].KindName, got["future"].KindName)
	}
}

// Finished is read from the file each command writes last; a finished run is not polled.
func TestRunState(t *testing.T) {
	dir := fixtureRuns(t)
	runs := openRuns(t, dir)
	list, err := runs.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range list {
		want := x.Name != "legacy" && x.Name != "future" // no kind: finished only after a quiet minute
		if x.Finished != want {
			t.Errorf("%s (%s): finished %v (%q), want %v", x.Name, x.Kind, x.Finished, x.State, want)
		}
	}
	// A resumed training run appends to metrics.csv after the old summary: being written again.
	past := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "rlhf-x", "summary.json"), past, past); err != nil {
		t.Fatal(err)
	}
	d, err := runs.Load("rlhf-x")
	if err != nil || d.Finished || d.State != "being written" {
		t.Fatalf("resumed run: %+v, %v", d.RunInfo, err)
	}
	writeFiles(t, dir, map[string]string{"rlhf-x/summary.json": `{"penalty":"kl-adaptive:0.01","stopped":"interrupted"}`,
		"cmp/runs.csv": "setting,seed,status,final_return\nclip:0.2,1,ok,480\nnone,1,pending,\n"})
	if d, _ = runs.Load("rlhf-x"); !d.Finished || d.State != "stopped (interrupted)" {
		t.Errorf("interrupted run: finished %v, state %q", d.Finished, d.State)
	}
	if d, _ = runs.Load("cmp"); d.Finished || d.State != "being written" {
		t.Errorf("compare with a pending run: finished %v, state %q", d.Finished, d.State)
	}
	// A leash experiment writes leash.json at its start and leash.md only when every run finished.
	if err := os.Remove(filepath.Join(dir, "lsh", "leash.md")); err != nil {
		t.Fatal(err)
	}
	if d, _ = runs.Load("lsh"); d.Finished || d.State != "being written" {
		t.Errorf("leash experiment without its table: finished %v, state %q", d.Finished, d.State)
	}
}

// The story of a kl-adaptive run: β's floor and ceiling and the band come from config.json, the
// fractions from metrics.csv, or from summary.json when the run wrote them.
func TestTrainStory(t *testing.T) {
	dir := fixtureRuns(t)
	runs := openRuns(t, dir)
	d, err := runs.Load("rlhf-x")
	if err != nil {
		t.Fatal(err)
	}
	st := d.Story
	if st == nil {
		t.Fatal("no story")
	}
	// KL 0.001, 0.008, 0.012, 0.02 against the band [0.00667, 0.015]: 2 of 4 inside; β 1, 1e-4
	// (the floor), 2e-4, 1e4 (the ceiling): 3 of 4 off the floor, 2 strictly between.
	if st.BandLo != 0.01/1.5 || st.BandHi != 0.015 || st.BetaMin != 1e-4 || st.BetaMax != 1e4 || st.Target != 0.01 {
		t.Errorf("band [%g, %g], β in [%g, %g], target %g", st.BandLo, st.BandHi, st.BetaMin, st.BetaMax, st.Target)
	}
	if st.InBand != 0.5 || st.OffFloor != 0.75 || st.Active != 0.5 || st.AtCeiling != 0.25 || st.Updates != 4 || st.Source != "metrics.csv" {
		t.Errorf("in band %g, off floor %g, active %g, at ceiling %g, %d updates, from %s", st.InBand, st.OffFloor, st.Active, st.AtCeiling, st.Updates, st.Source)
	}
	if math.Abs(st.Overshoot-2) > 1e-12 {
		t.Errorf("largest overshoot %g × d_targ, want 2", st.Overshoot)
	}
	for _, w := range []string{"β left its floor (1e-4) in 75 % of updates", "sat on its ceiling (10000) in 25 %", "in the band [0.00667, 0.015]", "in 50 % of updates", "largest: 2 × d_targ", "(4 updates)"} {
		if !strings.Contains(st.Sentence, w) {
			t.Errorf("sentence %q lacks %q", st.Sentence, w)
		}
	}
	writeFiles(t, dir, map[string]string{"rlhf-x/summary.json": `{"penalty":"kl-adaptive:0.01","kl_in_band_frac":0.625,"beta_active_frac":0.875}`})
	if d, _ = runs.Load("rlhf-x"); d.Story.InBand != 0.625 || d.Story.Active != 0.875 || d.Story.Source != "summary.json" {
		t.Errorf("with the summary's fractions: %+v", d.Story)
	}
}

// An RLHF run's page gets its samples at the start, the gold peak and the end, and the heaviest
// words of the reward model its config.json names.
func TestRLHFRunData(t *testing.T) {
	dir := fixtureRuns(t)
	runs := openRuns(t, dir)
	d, err := runs.Load("story/leash")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range d.Samples {
		got = append(got, fmt.Sprintf("%s %d %s", s.When, s.Update, s.Text))
	}
	want := "start 1 text 1.0|start 1 text 1.1|gold peak 2 text 2.0|gold peak 2 text 2.1|end 3 text 3.0|end 3 text 3.1"
	if strings.Join(got, "|") != want {
		t.Errorf("samples %q, want %q", strings.Join(got, "|"), want)
	}
	if d.Samples[0].Gold == nil || *d.Samples[0].Gold != 0.1 || d.Samples[1].InLanguage == nil || *d.Samples[1].InLanguage {
		t.Errorf("sample rewards: %+v", d.Samples[:2])
	}
	rm := d.RewardModel
	if rm == nil || rm.Run != "story/rm" || rm.Words != 6 || len(rm.Top) != 3 || rm.Top[0].Word != "great" || rm.Bottom[0].Word != "awful" || rm.Bottom[2].Word != "the" {
		t.Fatalf("reward model %+v", rm)
	}
	// The story page overlays its runs and shows the same reward model.
	d, err = runs.Load("story")
	if err != nil {
		t.Fatal(err)
	}
	if d.Tables["leash/metrics.csv"] == nil || len(d.Children) != 4 || d.RewardModel == nil {
		t.Errorf("story: tables %v, children %v, reward model %v", d.Tables, d.Children, d.RewardModel)
	}
	// Without samples.jsonl the texts of summary.json are shown.
	if err := os.Remove(filepath.Join(dir, "story", "leash", "samples.jsonl")); err != nil {
		t.Fatal(err)
	}
	if d, _ = runs.Load("story/leash"); len(d.Samples) != 3 || d.Samples[1].When != "gold peak" || d.Samples[1].Text != "b" {
		t.Errorf("samples from summary.json: %+v", d.Samples)
	}
}

// countingFS counts the bytes read through it.
type countingFS struct {
	fs.FS
	n *atomic.Int64
}

type countingFile struct {
	fs.File
	n *atomic.Int64
}

func (c countingFS) Open(name string) (fs.File, error) {
	f, err := c.FS.Open(name)
	if err != nil {
		return nil, err
	}
	return countingFile{f, c.n}, nil
}

func (c countingFile) Read(p []byte) (int, error) {
	n, err := c.File.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c countingFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if d, ok := c.File.(fs.ReadDirFile); ok {
		return d.ReadDir(n)
	}
	return nil, &fs.PathError{Op: "readdir", Err: syscall.ENOTDIR}
}

// A 200 MB config.json is not read on any listing (issue 21: 5 requests cost 1.7 GB), and a
// listing of unchanged runs reads nothing again.
func TestListRunsBoundedReads(t *testing.T) {
	dir := fixtureRuns(t)
	big := filepath.Join(dir, "big")
	writeFiles(t, dir, map[string]string{"big/run.json": kindJSON(rundir.KindTrain), "big/metrics.csv": trainHeader})
	f, err := os.Create(filepath.Join(big, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(200 << 20); err != nil { // sparse: 200 MB of zeros
		t.Fatal(err)
	}
	f.Close()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	var n atomic.Int64
	runs := NewRuns(countingFS{root.FS(), &n}, dir)
	list, err := runs.List()
	if err != nil {
		t.Fatal(err)
	}
	first := n.Load()
	if first > 1<<20 {
		t.Errorf("the first listing read %d bytes, want well under 1 MB", first)
	}
	var problems string
	for _, x := range list {
		if x.Name == "big" {
			problems = strings.Join(x.Problems, "; ")
		}
	}
	if !strings.Contains(problems, "config.json") || !strings.Contains(problems, "too large") {
		t.Errorf("the big run's problems %q do not say config.json is too large", problems)
	}
	for i := 0; i < 5; i++ {
		if _, err := runs.List(); err != nil {
			t.Fatal(err)
		}
	}
	if again := n.Load() - first; again != 0 {
		t.Errorf("five more listings of unchanged runs read %d bytes, want 0 (cached by size and time)", again)
	}
	if d, err := runs.Load("big"); err != nil || d.Config != nil || n.Load()-first > 1<<20 {
		t.Errorf("the page of the big run: config %v, %v, read %d bytes", d.Config != nil, err, n.Load()-first)
	}
}

// A FIFO named metrics.csv (or anything else) under --runs is refused, not waited on: the list,
// a run page and the file API all answer.
func TestServerFIFONeverBlocks(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"r/run.json": kindJSON(rundir.KindTrain)})
	for _, f := range []string{"r/metrics.csv", "r/summary.json", "r/config.json", "r/samples.jsonl"} {
		if err := syscall.Mkfifo(filepath.Join(dir, filepath.FromSlash(f)), 0o644); err != nil {
			t.Fatalf("mkfifo: %v", err)
		}
	}
	s, err := NewServer(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, u := range []string{"/api/runs", "/api/run?run=r", "/api/file?run=r&file=metrics.csv"} {
		done := make(chan string, 1)
		go func() {
			code, body := get(t, s, "GET", u)
			done <- fmt.Sprintf("%d %s", code, body)
		}()
		select {
		case res := <-done:
			if u == "/api/runs" && !strings.Contains(res, "named pipe") {
				t.Errorf("GET %s: %.300s (want the pipe named as a problem)", u, res)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("GET %s blocked on a FIFO", u)
		}
	}
}

// GET //explain/coin must not redirect to //explain/coin/ (a different host to a browser).
func TestServerRedirectsToOneSlash(t *testing.T) {
	s, err := NewServer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for target, want := range map[string]string{
		"//explain/coin":           "/explain/coin/",
		"//explain/coin/":          "/explain/coin/",
		"///explain/coin?p=0.7":    "/explain/coin/?p=0.7",
		"/explain/coin?p=0.7&q=0":  "/explain/coin/?p=0.7&q=0",
		"//runs":                   "/runs/",
		"/runs//":                  "/runs/",
		"/explain/coin//?p=1":      "/explain/coin/?p=1",
		"//runs/view/?run=a%2Fb":   "/runs/view/?run=a%2Fb",
		"/%2F%2Fevil.example/runs": "",
	} {
		req := httptest.NewRequest("GET", "http://127.0.0.1"+target, nil)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		loc := rec.Header().Get("Location")
		if want == "" {
			if rec.Code != http.StatusNotFound {
				t.Errorf("GET %s: %d to %q, want 404", target, rec.Code, loc)
			}
			continue
		}
		if rec.Code != http.StatusMovedPermanently || loc != want {
			t.Errorf("GET %s: %d to %q, want 301 to %q", target, rec.Code, loc, want)
		}
	}
	if code, _ := get(t, s, "GET", "/explain/coin/"); code != http.StatusOK {
		t.Errorf("GET /explain/coin/: %d", code)
	}
}

// download=1 serves a run's file as an attachment under its own name.
func TestServerDownload(t *testing.T) {
	runs, _ := newTestRuns(t)
	s, err := NewServer(runs)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	req := httptest.NewRequest("GET", "http://127.0.0.1/api/file?run=cartpole&file=metrics.csv&download=1", nil)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Result().Body)
	if cd := rec.Header().Get("Content-Disposition"); rec.Code != http.StatusOK || cd != "attachment; filename=metrics.csv" || !strings.Contains(string(body), "0.02") {
		t.Errorf("download: %d, Content-Disposition %q, body %.40q", rec.Code, cd, body)
	}
}

// Export refuses a non-empty directory without Force and a run directory always, and never
// writes through a symbolic link out of the directory.
func TestExportGuards(t *testing.T) {
	base := t.TempDir()
	victim := filepath.Join(base, "victim.txt")
	writeFiles(t, base, map[string]string{"victim.txt": "precious", "full/notes.txt": "x", "run/metrics.csv": "update\n1\n", "file": "x"})
	site := filepath.Join(base, "site")
	if err := os.MkdirAll(site, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(site, "index.html")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(base, filepath.Join(site, "static")); err != nil { // a directory link out of DIR
		t.Fatal(err)
	}
	for _, c := range []struct {
		dir   string
		force bool
		want  error
	}{
		{filepath.Join(base, "full"), false, ErrExportNotEmpty},
		{filepath.Join(base, "run"), true, ErrExportRunDir},
		{filepath.Join(base, "file"), true, ErrExportNotDir},
		{site, false, ErrExportNotEmpty},
	} {
		if err := Export(c.dir, ExportOptions{Force: c.force}); err == nil || !strings.Contains(err.Error(), c.dir) || !errors.Is(err, c.want) {
			t.Errorf("Export(%s, force %v): %v, want %v naming the directory", c.dir, c.force, err, c.want)
		}
	}
	if err := Export("", ExportOptions{}); err == nil {
		t.Error(`Export(""): no error`)
	}
	// With --force the links are not followed: index.html is replaced by the page, and static/
	// (a link out of the directory) is refused, not written through.
	err := Export(site, ExportOptions{Force: true})
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Fatalf("the file the index.html link pointed at now holds %.40q", b)
	}
	if fi, lerr := os.Lstat(filepath.Join(site, "index.html")); lerr != nil || fi.Mode()&os.ModeSymlink != 0 {
		t.Errorf("index.html is still a link (%v)", lerr)
	}
	if !errors.Is(err, ErrExportLink) || !strings.Contains(err.Error(), filepath.Join(site, "static")) {
		t.Errorf("Export through static/, a link out of the directory: %v, want %v naming the link", err, ErrExportLink)
	}
	if es, _ := os.ReadDir(base); len(es) != 5 {
		t.Errorf("the parent directory now holds %d entries, want the 5 it had", len(es))
	}
	// A fresh directory, then the same again with --force: both work.
	fresh := filepath.Join(base, "fresh")
	if err := Export(fresh, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := Export(fresh, ExportOptions{}); !errors.Is(err, ErrExportNotEmpty) {
		t.Errorf("export into the same directory again: %v", err)
	}
	if err := Export(fresh, ExportOptions{Force: true}); err != nil {
		t.Errorf("export again with Force: %v", err)
	}
}

// Export with Runs writes a snapshot of every run (the runs inside a comparison too) that the
// static runs pages read; it refuses a copy inside the runs directory.
func TestExportRuns(t *testing.T) {
	runs := fixtureRuns(t)
	if err := syscall.Mkfifo(filepath.Join(runs, "rlhf-x", "notes.csv"), 0o644); err != nil {
		t.Fatal(err)
	}
	site := filepath.Join(t.TempDir(), "site")
	if err := Export(site, ExportOptions{Runs: runs}); err != nil {
		t.Fatal(err)
	}
	var list struct {
		Runs []RunInfo `json:"runs"`
	}
	b, err := os.ReadFile(filepath.Join(site, "api", "runs.json"))
	if err != nil || json.Unmarshal(b, &list) != nil || len(list.Runs) != 16 {
		t.Fatalf("api/runs.json: %d runs, %v", len(list.Runs), err)
	}
	for _, run := range []string{"rlhf-x", "story/leash", "cmp", "cmp/clip_0.2/seed-1", "rs/seed-1/rm"} {
		var d RunData
		b, err := os.ReadFile(filepath.Join(site, "api", "run", filepath.FromSlash(run), "index.json"))
		if err != nil || json.Unmarshal(b, &d) != nil || d.Name != run {
			t.Errorf("api/run/%s/index.json: %v (name %q)", run, err, d.Name)
			continue
		}
		for _, f := range d.Files {
			got, err := os.ReadFile(filepath.Join(site, "api", "file", filepath.FromSlash(run), f.Name))
			want, _ := os.ReadFile(filepath.Join(runs, filepath.FromSlash(run), f.Name))
			if err != nil || string(got) != string(want) {
				t.Errorf("api/file/%s/%s: %v, %d bytes of %d", run, f.Name, err, len(got), len(want))
			}
		}
	}
	if _, err := os.Lstat(filepath.Join(site, "api", "file", "rlhf-x", "notes.csv")); err == nil {
		t.Error("the FIFO notes.csv was copied")
	}
	if err := Export(filepath.Join(runs, "site"), ExportOptions{Runs: runs}); !errors.Is(err, ErrExportInRuns) {
		t.Errorf("a copy inside the runs directory: %v", err)
	}
}
