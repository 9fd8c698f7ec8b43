package nn

import (
	"fmt"
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"

	"gorgonia.org/tensor"
)

// Workspace holds the scratch buffers of MLP.Forward. The zero value is ready to use; it grows
// to the largest batch seen and then Forward allocates nothing. A Workspace may serve several
// MLPs but only one goroutine at a time.
type Workspace struct {
	a64, b64, out []float64
	a32, b32      []float32
}

// grow returns s resliced to n elements, or a new slice when its capacity is short (the old
// contents are not kept: every caller overwrites them).
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// Forward computes the network's output for a batch in plain Go over the same parameter tensors
// the graphs use: x is rows×In (row-major) and the result is rows×Out (row-major). Arithmetic is
// done in the MLP's dtype (a float32 MLP rounds x to float32 and widens the output back), so the
// result matches the graph's to rounding. The returned slice belongs to ws and is overwritten by
// ws's next use.
func (m *MLP) Forward(ws *Workspace, x []float64, rows int) ([]float64, error) {
	if ws == nil {
		return nil, fmt.Errorf("nn: MLP %q Forward: nil workspace", m.name)
	}
	if rows <= 0 || len(x) != rows*m.in {
		return nil, fmt.Errorf("nn: MLP %q Forward: len(x)=%d, rows=%d: want len(x) = rows×%d with rows > 0", m.name, len(x), rows, m.in)
	}
	width := 0
	for _, s := range m.sizes[1:] {
		width = max(width, s)
	}
	out := m.Out()
	ws.out = grow(ws.out, rows*out)
	nl := len(m.w)
	if m.dtype == tensor.Float64 {
		ws.a64 = grow(ws.a64, rows*width)
		ws.b64 = grow(ws.b64, rows*width)
		src, dst := x, ws.a64
		for l := 0; l < nl; l++ {
			if l == nl-1 {
				dst = ws.out
			}
			w, b := m.layer64(l)
			affine64(dst, src, w, b, rows, m.sizes[l], m.sizes[l+1])
			if l < nl-1 {
				activate64(m.act, dst[:rows*m.sizes[l+1]])
				if l%2 == 0 {
					src, dst = ws.a64, ws.b64
				} else {
					src, dst = ws.b64, ws.a64
				}
			}
		}
		return ws.out, nil
	}
	ws.a32 = grow(ws.a32, rows*max(width, m.in))
	ws.b32 = grow(ws.b32, rows*max(width, m.in))
	for i, v := range x {
		ws.b32[i] = float32(v)
	}
	src, dst := ws.b32, ws.a32
	for l := 0; l < nl; l++ {
		w, b := m.layer32(l)
		affine32(dst, src, w, b, rows, m.sizes[l], m.sizes[l+1])
		if l < nl-1 {
			activate32(m.act, dst[:rows*m.sizes[l+1]])
		}
		src, dst = dst, src
	}
	for i := range ws.out {
		ws.out[i] = float64(src[i])
	}
	return ws.out, nil
}

// layer64 returns layer l's weight and bias data without allocating: the slices cached at
// construction while they still back the tensors (parameters are updated in place), the
// tensors' current data otherwise.
func (m *MLP) layer64(l int) (w, b []float64) {
	w, b = m.w64[l], m.b64[l]
	if m.w[l].Uintptr() != uintptr(unsafe.Pointer(unsafe.SliceData(w))) || m.b[l].Uintptr() != uintptr(unsafe.Pointer(unsafe.SliceData(b))) {
		return m.w[l].Data().([]float64), m.b[l].Data().([]float64)
	}
	return w, b
}

// layer32 is layer64 for float32 MLPs.
func (m *MLP) layer32(l int) (w, b []float32) {
	w, b = m.w32[l], m.b32[l]
	if m.w[l].Uintptr() != uintptr(unsafe.Pointer(unsafe.SliceData(w))) || m.b[l].Uintptr() != uintptr(unsafe.Pointer(unsafe.SliceData(b))) {
		return m.w[l].Data().([]float32), m.b[l].Data().([]float32)
	}
	return w, b
}

// affine64 sets dst[r,:] = src[r,:]·W + b for every row r (W is in×out, row-major): the bias
// rows are copied into dst, then gonum's Dgemm adds src·W (its kernel is an assembly axpy, about
// twice as fast as a Go loop at these sizes; it skips zero inputs, which helps ReLU nets).
func affine64(dst, src, w, b []float64, rows, in, out int) {
	for r := 0; r < rows; r++ {
		copy(dst[r*out:(r+1)*out], b)
	}
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1,
		blas64.General{Rows: rows, Cols: in, Stride: in, Data: src[:rows*in]},
		blas64.General{Rows: in, Cols: out, Stride: out, Data: w},
		1, blas64.General{Rows: rows, Cols: out, Stride: out, Data: dst[:rows*out]})
}

// affine32 is affine64 in float32 (Sgemm; the AVX2 tiles of sgemmTiled when they apply, with
// gonum's rounding).
func affine32(dst, src, w, b []float32, rows, in, out int) {
	for r := 0; r < rows; r++ {
		copy(dst[r*out:(r+1)*out], b)
	}
	if sgemmTiled(blas.NoTrans, blas.NoTrans, rows, out, in, 1, src[:rows*in], in, w, out, 1, dst[:rows*out], out) {
		return
	}
	blas32.Gemm(blas.NoTrans, blas.NoTrans, 1,
		blas32.General{Rows: rows, Cols: in, Stride: in, Data: src[:rows*in]},
		blas32.General{Rows: in, Cols: out, Stride: out, Data: w},
		1, blas32.General{Rows: rows, Cols: out, Stride: out, Data: dst[:rows*out]})
}

func activate64(a Activation, h []float64) {
	if a == ReLU {
		for i, v := range h {
			if v < 0 {
				h[i] = 0
			}
		}
		return
	}
	tanhInto64(h, h)
}

func activate32(a Activation, h []float32) {
	if a == ReLU {
		for i, v := range h {
			if v < 0 {
				h[i] = 0
			}
		}
		return
	}
	tanhInto32(h, h) // float32(math.Tanh(float64(v))), 4 at a time
}
