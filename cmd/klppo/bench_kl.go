package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"klppo/internal/cputime"
	"klppo/kl/fast"
)

func init() {
	register("bench kl", "time the fused large-batch KL(P‖Q) from logits (kl/fast): median ms per call", runBenchKL)
}

// benchKLResult is the --json output of klppo bench kl.
type benchKLResult struct {
	Batch        int     `json:"batch"`
	Vocab        int     `json:"vocab"`
	DType        string  `json:"dtype"`
	MsPerCall    float64 `json:"ms_per_call"` // median wall time
	MinMs        float64 `json:"min_ms"`
	MaxMs        float64 `json:"max_ms"`
	CPUMsPerCall float64 `json:"cpu_ms_per_call"` // process CPU time (all threads) per call, mean
	GBPerSecond  float64 `json:"gb_per_s"`        // logits bytes read per median call
	Repeats      int     `json:"repeats"`
	Warmup       int     `json:"warmup"`
	Threads      int     `json:"threads"`
	Kernel       string  `json:"kernel"`
	MeanKL       float64 `json:"mean_kl"` // mean over rows, nats (a check that work was done)
}

func runBenchKL(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench kl", "[--batch B] [--vocab V] [--dtype float32|float64] [--repeat N] [--warmup N] [--threads T] [--json]", stderr)
	batch := fs.Int("batch", 256, "rows (sequences × positions) per call")
	vocab := fs.Int("vocab", 50257, "logits per row (vocabulary size)")
	dtype := fs.String("dtype", "float32", "logit type: float32 or float64")
	repeat := fs.Int("repeat", 20, "timed calls; the median is reported")
	warmup := fs.Int("warmup", 3, "untimed calls before timing")
	threads := fs.Int("threads", 0, "goroutines (0 = GOMAXPROCS)")
	seed := fs.Uint64("seed", 1, "seed of the random logits (normal, σ = 2)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *batch < 1:
		return usagef("--batch %d: must be ≥ 1", *batch)
	case *vocab < 1:
		return usagef("--vocab %d: must be ≥ 1", *vocab)
	case *batch > (1<<30) / *vocab:
		return usagef("--batch %d × --vocab %d: more than 2^30 logits per matrix", *batch, *vocab)
	case *dtype != "float32" && *dtype != "float64":
		return usagef("--dtype %q: must be float32 or float64", *dtype)
	case *repeat < 1:
		return usagef("--repeat %d: must be ≥ 1", *repeat)
	case *warmup < 0:
		return usagef("--warmup %d: must be ≥ 0", *warmup)
	case *threads < 0:
		return usagef("--threads %d: must be ≥ 0", *threads)
	}

	n := *batch * *vocab
	rng := rand.New(rand.NewPCG(*seed, 0x6b6c))
	f := fast.New(*threads)
	dst := make([]float64, *batch)
	var call func() error
	bytes := float64(n) * 2
	if *dtype == "float32" {
		p, q := make([]float32, n), make([]float32, n)
		for i := range p {
			p[i], q[i] = float32(2*rng.NormFloat64()), float32(2*rng.NormFloat64())
		}
		call = func() error { return f.KLLogits32(dst, p, q, *batch, *vocab) }
		bytes *= 4
	} else {
		p, q := make([]float64, n), make([]float64, n)
		for i := range p {
			p[i], q[i] = 2*rng.NormFloat64(), 2*rng.NormFloat64()
		}
		call = func() error { return f.KLLogits64(dst, p, q, *batch, *vocab) }
		bytes *= 8
	}

	for i := 0; i < *warmup; i++ {
		if err := call(); err != nil {
			return err
		}
	}
	ms := make([]float64, *repeat)
	cpu0, _ := cputime.Process()
	for i := range ms {
		t0 := time.Now()
		if err := call(); err != nil {
			return err
		}
		ms[i] = float64(time.Since(t0).Nanoseconds()) / 1e6
	}
	cpu1, _ := cputime.Process()
	cpu := cpu1 - cpu0
	sorted := append([]float64(nil), ms...)
	msMedian := median(sorted) // sorts its argument
	meanKL := 0.0
	for _, v := range dst {
		meanKL += v / float64(len(dst))
	}
	res := benchKLResult{
		Batch: *batch, Vocab: *vocab, DType: *dtype,
		MsPerCall: msMedian, MinMs: sorted[0], MaxMs: sorted[len(sorted)-1],
		CPUMsPerCall: float64(cpu.Nanoseconds()) / 1e6 / float64(*repeat),
		GBPerSecond:  bytes / (msMedian / 1e3) / 1e9,
		Repeats:      *repeat, Warmup: *warmup, Threads: min(f.Threads(), *batch),
		Kernel: fast.Kernel(), MeanKL: meanKL,
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		return enc.Encode(res)
	}
	fmt.Fprintf(stdout, "bench kl: KL(P‖Q) per row of %d × %d %s logits; threads %d, kernel %s; %d warm-up + %d timed calls\n",
		res.Batch, res.Vocab, res.DType, res.Threads, res.Kernel, res.Warmup, res.Repeats)
	fmt.Fprintf(stdout, "ms_per_call %.2f (median; min %.2f, max %.2f)\n", res.MsPerCall, res.MinMs, res.MaxMs)
	fmt.Fprintf(stdout, "cpu_ms_per_call %.2f (process CPU time, all threads)\n", res.CPUMsPerCall)
	fmt.Fprintf(stdout, "throughput %.1f GB/s of logits; mean KL %.4f nats\n", res.GBPerSecond, res.MeanKL)
	return nil
}
