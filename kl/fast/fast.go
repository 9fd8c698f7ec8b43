package fast

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"gorgonia.org/tensor"

	"klppo/kl"
)

// KL computes KL(P‖Q) per row from logits for large batches. It holds its goroutine
// bookkeeping, so a call allocates nothing; build one with New and reuse it. Calls on one
// KL are serialised; use one KL per goroutine for concurrent calls.
//
// Rows whose fast result is not finite (a −Inf logit, a masked token, or invalid input) are
// recomputed with the exact kl.KLLogits, which gives +Inf where Q has probability 0 and P does not,
// and an error naming the row for NaN or +Inf logits.
type KL struct {
	mu      sync.Mutex
	threads int
	work    func() // f.worker bound once, so that `go f.work()` allocates nothing
	wg      sync.WaitGroup

	// the current call
	next       atomic.Int64
	rows, cols int
	p32, q32   []float32
	p64, q64   []float64
	dst        []float64
	errMu      sync.Mutex
	err        error
}

// New returns a KL that spreads rows over threads goroutines (threads ≤ 0 means
// runtime.GOMAXPROCS(0)).
func New(threads int) *KL {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	f := &KL{threads: threads}
	f.work = f.worker
	return f
}

// Threads returns the number of goroutines a call uses (at most one per row).
func (f *KL) Threads() int { return f.threads }

// Kernel returns the row kernels used on this machine: "avx512" (float32 rows through the
// AVX-512 assembly of kernels_amd64.s, float64 rows through the AVX2 one, on amd64 CPUs with
// AVX-512F), "avx2" (the AVX2 and FMA assembly) or "go" (the pure-Go kernels).
func Kernel() string {
	switch {
	case fastHaveAVX512:
		return "avx512"
	case fastHaveAVX2:
		return "avx2"
	}
	return "go"
}

// KLLogits32 writes KL(softmax(p_r)‖softmax(q_r)) in nats for each row r of the row-major
// (rows × cols) float32 matrices p and q into dst[r]. The sums are accumulated in float64.
func (f *KL) KLLogits32(dst []float64, p, q []float32, rows, cols int) error {
	if err := fastCheck(len(dst), len(p), len(q), rows, cols); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.p32, f.q32, f.p64, f.q64 = p, q, nil, nil
	return f.run(dst, rows, cols)
}

// KLLogits64 is KLLogits32 for float64 logits.
func (f *KL) KLLogits64(dst []float64, p, q []float64, rows, cols int) error {
	if err := fastCheck(len(dst), len(p), len(q), rows, cols); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.p32, f.q32, f.p64, f.q64 = nil, nil, p, q
	return f.run(dst, rows, cols)
}

// KLLogitsDense is KLLogits32/KLLogits64 for two contiguous (rows × cols) *tensor.Dense of
// dtype float32 or float64 (the same for both). dst must have length rows.
func (f *KL) KLLogitsDense(dst []float64, p, q *tensor.Dense) error {
	if p == nil || q == nil {
		return errors.New("fast: KL: p or q is nil")
	}
	rows, cols, err := fastDenseShape("p", p)
	if err != nil {
		return err
	}
	if _, _, err := fastDenseShape("q", q); err != nil {
		return err
	}
	if !p.Shape().Eq(q.Shape()) {
		return fmt.Errorf("fast: KL: p has shape %v but q has shape %v", p.Shape(), q.Shape())
	}
	switch pd := p.Data().(type) {
	case []float32:
		qd, ok := q.Data().([]float32)
		if !ok {
			return fmt.Errorf("fast: KL: p has dtype float32 but q has dtype %v", q.Dtype())
		}
		return f.KLLogits32(dst, pd, qd, rows, cols)
	case []float64:
		qd, ok := q.Data().([]float64)
		if !ok {
			return fmt.Errorf("fast: KL: p has dtype float64 but q has dtype %v", q.Dtype())
		}
		return f.KLLogits64(dst, pd, qd, rows, cols)
	}
	return fmt.Errorf("fast: KL: p has dtype %v, want float32 or float64", p.Dtype())
}

func fastDenseShape(name string, t *tensor.Dense) (rows, cols int, err error) {
	s := t.Shape()
	if len(s) != 2 {
		return 0, 0, fmt.Errorf("fast: KL: %s has shape %v, want (rows, cols)", name, s)
	}
	if t.RequiresIterator() {
		return 0, 0, fmt.Errorf("fast: KL: %s is a non-contiguous view; Materialize it first", name)
	}
	return s[0], s[1], nil
}

func fastCheck(nDst, nP, nQ, rows, cols int) error {
	switch {
	case rows < 0:
		return fmt.Errorf("fast: KL: rows = %d, want ≥ 0", rows)
	case cols < 1:
		return fmt.Errorf("fast: KL: cols = %d, want ≥ 1", cols)
	case nP != rows*cols:
		return fmt.Errorf("fast: KL: len(p) = %d, want rows×cols = %d×%d = %d", nP, rows, cols, rows*cols)
	case nQ != rows*cols:
		return fmt.Errorf("fast: KL: len(q) = %d, want rows×cols = %d×%d = %d", nQ, rows, cols, rows*cols)
	case nDst != rows:
		return fmt.Errorf("fast: KL: len(dst) = %d, want rows = %d", nDst, rows)
	}
	return nil
}

// run spreads the rows over the goroutines (each takes the next free row) and waits.
func (f *KL) run(dst []float64, rows, cols int) error {
	f.dst, f.rows, f.cols, f.err = dst, rows, cols, nil
	f.next.Store(0)
	helpers := max(min(f.threads, rows)-1, 0)
	f.wg.Add(helpers)
	for i := 0; i < helpers; i++ {
		go f.work()
	}
	f.rowsLoop()
	f.wg.Wait()
	err := f.err
	f.p32, f.q32, f.p64, f.q64, f.dst, f.err = nil, nil, nil, nil, nil, nil
	return err
}

func (f *KL) worker() {
	defer f.wg.Done()
	f.rowsLoop()
}

func (f *KL) rowsLoop() {
	c := f.cols
	for {
		r := int(f.next.Add(1) - 1)
		if r >= f.rows {
			return
		}
		var v float64
		if f.p32 != nil {
			p, q := f.p32[r*c:(r+1)*c], f.q32[r*c:(r+1)*c]
			switch {
			case fastHaveAVX512:
				v = fastRow32AVX512(p, q)
			case fastHaveAVX2:
				v = fastRow32AVX2(p, q)
			default:
				v = fastRow32(p, q)
			}
			if !fastFinite(v) {
				v = f.exactRow(r, p, q)
			}
		} else {
			p, q := f.p64[r*c:(r+1)*c], f.q64[r*c:(r+1)*c]
			if fastHaveAVX2 {
				v = fastRow64AVX2(p, q)
			} else {
				v = fastRow64(p, q)
			}
			if !fastFinite(v) {
				v = f.exactRow(r, p, q)
			}
		}
		f.dst[r] = v
	}
}

func fastFinite(v float64) bool { return v-v == 0 }

// exactRow recomputes a row whose fast value is not finite with KLLogits (−Inf logits are
// zero probabilities; NaN/+Inf logits are an error).
func (f *KL) exactRow(r int, p, q any) float64 {
	var v float64
	var err error
	switch p := p.(type) {
	case []float32:
		v, err = kl.KLLogits(p, q.([]float32))
	case []float64:
		v, err = kl.KLLogits(p, q.([]float64))
	}
	if err != nil {
		f.errMu.Lock()
		if f.err == nil {
			f.err = fmt.Errorf("fast: KL: row %d: %w", r, err)
		}
		f.errMu.Unlock()
		return math.NaN()
	}
	return v
}

// fastCombine turns the row sums into KL = T/Sx + log(Sy/Sx) (see the top of this file).
func fastCombine(sx, sy, t float64) float64 {
	return t/sx + math.Log(sy/sx)
}
