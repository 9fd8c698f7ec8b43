package nn

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/chewxy/math32"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// engine is the tensor engine of the tape machines NewTrainer builds: gorgonia's standard
// engine, except that tanh and exp run through AVX2 kernels that return bit for bit what the
// standard engine's element loop returns — float32 over math32.Tanh and math32.Exp
// (engine_amd64.s, 8 elements at a time, TestVecMathMatchesMath32), float64 over math.Tanh and
// math.Exp (tanh64_amd64.s, 4 at a time, TestVecMath64MatchesMath) — and that products and the
// broadcast repeats take exact shortcuts (MatMul, RepeatReuse). A training graph of tanh MLPs
// spends a sixth of its time in math32.Tanh; the kernels take that to about a tenth of it. Any
// case the kernels do not cover (strided views, masked tensors, an increment option, no AVX2)
// goes to the standard engine unchanged.
type engine struct {
	gorgonia.StandardEngine
}

var (
	_ tensor.Tanher = engine{}
	_ tensor.Exper  = engine{}
)

// Tanh is the standard engine's Tanh.
func (e engine) Tanh(a tensor.Tensor, opts ...tensor.FuncOpt) (tensor.Tensor, error) {
	if r, ok := unary(a, opts, math32Into(tanh32AVX2, math32.Tanh), tanhInto64); ok {
		return r, nil
	}
	return e.StandardEngine.Tanh(a, opts...)
}

// Exp is the standard engine's Exp.
func (e engine) Exp(a tensor.Tensor, opts ...tensor.FuncOpt) (tensor.Tensor, error) {
	if r, ok := unary(a, opts, math32Into(exp32AVX2, math32.Exp), expInto64); ok {
		return r, nil
	}
	return e.StandardEngine.Exp(a, opts...)
}

// unary applies a function element-wise to a contiguous float32 or float64 tensor as the
// standard engine's unary functions do — into the reuse tensor if one is given, in place when
// unsafe, else into a clone — through f32 or f64 (dst, src), which must give every element the
// standard engine's bits (float32: math32's functions, float64: math's). It declines (false)
// anything else, and a dtype whose kernels the CPU lacks.
func unary(a tensor.Tensor, opts []tensor.FuncOpt, f32 func(dst, src []float32), f64 func(dst, src []float64)) (tensor.Tensor, bool) {
	d, ok := a.(*tensor.Dense)
	if !ok || !plainFloat(d) || (d.Dtype() == tensor.Float32 && !haveVecMathAVX2) || (d.Dtype() == tensor.Float64 && !haveVecMath64) {
		return nil, false
	}
	fo := tensor.ParseFuncOpts(opts...)
	if fo.Incr() != nil || fo.Same() || fo.As() != (tensor.Dtype{}) {
		return nil, false
	}
	var out *tensor.Dense
	switch r := fo.Reuse(); {
	case r != nil:
		rd, ok := r.(*tensor.Dense)
		if !ok || !plainFloat(rd) || rd.Dtype() != d.Dtype() || !rd.Shape().Eq(d.Shape()) || rd.DataSize() != d.DataSize() {
			return nil, false
		}
		out = rd
	case !fo.Safe():
		out = d
	default:
		out = d.Clone().(*tensor.Dense)
	}
	if d.Dtype() == tensor.Float32 {
		f32(out.Float32s(), d.Float32s())
	} else {
		f64(out.Float64s(), d.Float64s())
	}
	return out, true
}

// math32Into is the slice form of a float32 kernel of engine_amd64.s: the kernel on whole
// groups of 8, scalar (its math32 function) on the rest.
func math32Into(kernel func(dst, src *float32, n int), scalar func(float32) float32) func(dst, src []float32) {
	return func(dst, src []float32) { vecInto(dst, src, true, 8, kernel, scalar) }
}

// plainFloat reports whether d is a float32 or float64 tensor whose elements are its data slice
// in order.
func plainFloat(d *tensor.Dense) bool {
	dt := d.Dtype()
	return (dt == tensor.Float32 || dt == tensor.Float64) && !d.RequiresIterator() && !d.IsMasked() && d.DataSize() == d.Shape().TotalSize()
}

// vecConsts are the constants of engine_amd64.s, 8 copies each: exp's as math32's exp_amd64.s
// has them (float64 literals rounded to float32 by the assembler), tanh's as math32's tanh.go
// (constants rounded to float32 by the compiler).
var vecConsts = func() (t [24][8]uint32) {
	f := func(x float32) uint32 { return math.Float32bits(x) }
	const (
		log2e = 1.44269502162933349609375
		ln2u  = 0.693145751953125
		ln2l  = 1.428606765330187045e-06
		t2    = 0.166665524244308471679688
		t3    = 0.0416710823774337768554688
		t4    = 0.00836596917361021041870117
	)
	asm := func(x float64) uint32 { return f(float32(x)) } // float64 literal, then float32
	const maxLog = 88.02969187150841
	rows := []uint32{
		0x7fffffff, 0x7f800000, 0xff800000,
		asm(log2e), asm(ln2u), asm(ln2l), asm(0.0625), asm(t4), asm(t3), asm(t2), asm(0.5), asm(1.0),
		asm(2.0), asm(1.0), 127, 254,
		f(0.5 * maxLog), f(0.625),
		f(-5.70498872745e-3), f(2.06390887954e-2), f(5.37397155531e-2), f(1.33314422036e-1), f(3.33332819422e-1),
		0x80000000,
	}
	for i, v := range rows {
		for j := range t[i] {
			t[i][j] = v
		}
	}
	return t
}()

var _ tensor.MatMuler = engine{}

// MatMul is the standard engine's MatMul. With gonum's BLAS installed (tensor's default: a
// library user who never called UseFastBLAS), a float32 product that sgemmTiled covers goes to
// its AVX2 tiles, which give every element exactly the value gonum's Sgemm gives it
// (TestSgemmTiledMatchesGonum); with any other BLAS installed (FastBLAS, which already uses the
// tiles) and in every other case the standard engine does the product.
func (e engine) MatMul(a, b, prealloc tensor.Tensor) error {
	if matMulTiled(a, b, prealloc) {
		return nil
	}
	return e.StandardEngine.MatMul(a, b, prealloc)
}

// matMulTiled does C = A·B as tensor.StdEng.MatMul would with gonum's Sgemm, through sgemmTiled,
// and reports whether it did. It takes row-major float32 matrices of at least 2 × 2 — A and B
// either plain (strides (cols, 1)) or transposed views of plain data (strides (1, rows): passed
// with their original layout and the Trans flag, as StdEng does), C plain — and does nothing when
// another BLAS is installed, for any other layout, or when sgemmTiled declines.
func matMulTiled(a, b, prealloc tensor.Tensor) bool {
	if _, ok := tensor.WhichBLAS().(gonum.Implementation); !ok || !haveGemmAVX2 {
		return false
	}
	ad, ok1 := a.(*tensor.Dense)
	bd, ok2 := b.(*tensor.Dense)
	cd, ok3 := prealloc.(*tensor.Dense)
	if !ok1 || !ok2 || !ok3 {
		return false
	}
	A, tA, lda, ok1 := matrix32(ad)
	B, tB, ldb, ok2 := matrix32(bd)
	C, tC, ldc, ok3 := matrix32(cd)
	if !ok1 || !ok2 || !ok3 || tC != blas.NoTrans {
		return false
	}
	m, k, n := ad.Shape()[0], ad.Shape()[1], bd.Shape()[1]
	if bd.Shape()[0] != k || cd.Shape()[0] != m || cd.Shape()[1] != n {
		return false
	}
	return sgemmTiled(tA, tB, m, n, k, 1, A, lda, B, ldb, 0, C, ldc)
}

// matrix32 returns the data of a row-major float32 matrix d of at least 2 × 2 that is plain or a
// transposed view of plain data, with the BLAS transpose flag and leading dimension of that data.
func matrix32(d *tensor.Dense) (data []float32, t blas.Transpose, ld int, ok bool) {
	if d.Dtype() != tensor.Float32 || d.IsMasked() || !d.DataOrder().IsRowMajor() || d.Dims() != 2 {
		return nil, 0, 0, false
	}
	r, c := d.Shape()[0], d.Shape()[1]
	st := d.Strides()
	if r < 2 || c < 2 || len(st) != 2 || d.DataSize() != r*c {
		return nil, 0, 0, false
	}
	switch {
	case st[0] == c && st[1] == 1:
		return d.Float32s(), blas.NoTrans, c, true
	case st[0] == 1 && st[1] == r:
		return d.Float32s(), blas.Trans, r, true
	}
	return nil, 0, 0, false
}

var _ tensor.Repeater = engine{}

// RepeatReuse is the standard engine's RepeatReuse. The two repeats gorgonia's BroadcastAdd and
// BroadcastSub make of a matrix — a (1, n) row repeated r times down axis 0 (a bias over a
// batch) and an (m, 1) column repeated r times along axis 1 (a per-row max or log-sum-exp over
// a row of logits) — are written here with plain copies: the same values the standard engine
// writes through its generic element-array path, which costs about ten times as much.
func (e engine) RepeatReuse(t, reuse tensor.Tensor, axis int, repeats ...int) (tensor.Tensor, error) {
	if repeatBroadcast(t, reuse, axis, repeats) {
		return reuse, nil
	}
	return e.StandardEngine.RepeatReuse(t, reuse, axis, repeats...)
}

// repeatBroadcast does RepeatReuse's two broadcast cases for plain float32 and float64
// matrices and reports whether it did; it declines anything else.
func repeatBroadcast(t, reuse tensor.Tensor, axis int, repeats []int) bool {
	a, ok1 := t.(*tensor.Dense)
	d, ok2 := reuse.(*tensor.Dense)
	if !ok1 || !ok2 || len(repeats) != 1 || !plainMatrix(a) || !plainMatrix(d) || a.Dtype() != d.Dtype() {
		return false
	}
	r, as, ds := repeats[0], a.Shape(), d.Shape()
	switch {
	case axis == 0 && as[0] == 1 && ds[0] == r && ds[1] == as[1]:
	case axis == 1 && as[1] == 1 && ds[1] == r && ds[0] == as[0]:
	default:
		return false
	}
	switch a.Dtype() {
	case tensor.Float32:
		broadcastInto(d.Float32s(), a.Float32s(), axis, ds[0], ds[1])
	case tensor.Float64:
		broadcastInto(d.Float64s(), a.Float64s(), axis, ds[0], ds[1])
	default:
		return false
	}
	return true
}

// broadcastInto fills the rows×cols matrix dst from src: the row src repeated down (axis 0) or
// the column src repeated across (axis 1).
func broadcastInto[T float32 | float64](dst, src []T, axis, rows, cols int) {
	for i := 0; i < rows; i++ {
		row := dst[i*cols : (i+1)*cols]
		if axis == 0 {
			copy(row, src)
			continue
		}
		v := src[i]
		for j := range row {
			row[j] = v
		}
	}
}

// plainMatrix reports whether d is a float32 or float64 matrix whose elements are its data slice
// in row-major order.
func plainMatrix(d *tensor.Dense) bool {
	return plainFloat(d) && d.Dims() == 2 && d.DataOrder().IsRowMajor()
}
