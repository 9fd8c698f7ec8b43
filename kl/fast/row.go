package fast

import "math"

// Pure-Go row kernels of the fused pass (see fast.go for the formula). Four independent
// accumulators per sum keep the floating-point units busy.

// fastRow32 returns KL(softmax(x)‖softmax(y)) for one row of float32 logits, computed in float64
// with fastExpNeg.
func fastRow32(x, y []float32) float64 {
	n := len(x)
	y = y[:n]
	mx0, mx1, my0, my1 := float64(x[0]), float64(x[0]), float64(y[0]), float64(y[0])
	k := 0
	for ; k+2 <= n; k += 2 {
		mx0 = max(mx0, float64(x[k]))
		mx1 = max(mx1, float64(x[k+1]))
		my0 = max(my0, float64(y[k]))
		my1 = max(my1, float64(y[k+1]))
	}
	for ; k < n; k++ {
		mx0 = max(mx0, float64(x[k]))
		my0 = max(my0, float64(y[k]))
	}
	mx, my := max(mx0, mx1), max(my0, my1)

	var sx0, sx1, sx2, sx3, sy0, sy1, sy2, sy3, t0, t1, t2, t3 float64
	k = 0
	for ; k+4 <= n; k += 4 {
		xs, ys := x[k:k+4:k+4], y[k:k+4:k+4]
		x0, x1, x2, x3 := float64(xs[0]), float64(xs[1]), float64(xs[2]), float64(xs[3])
		y0, y1, y2, y3 := float64(ys[0]), float64(ys[1]), float64(ys[2]), float64(ys[3])
		x0, x1, x2, x3 = x0-mx, x1-mx, x2-mx, x3-mx
		y0, y1, y2, y3 = y0-my, y1-my, y2-my, y3-my
		e0, e1, e2, e3 := fastExpNeg(x0), fastExpNeg(x1), fastExpNeg(x2), fastExpNeg(x3)
		sx0 += e0
		sx1 += e1
		sx2 += e2
		sx3 += e3
		t0 += e0 * (x0 - y0)
		t1 += e1 * (x1 - y1)
		t2 += e2 * (x2 - y2)
		t3 += e3 * (x3 - y3)
		sy0 += fastExpNeg(y0)
		sy1 += fastExpNeg(y1)
		sy2 += fastExpNeg(y2)
		sy3 += fastExpNeg(y3)
	}
	for ; k < n; k++ {
		xv, yv := float64(x[k])-mx, float64(y[k])-my
		e := fastExpNeg(xv)
		sx0 += e
		t0 += e * (xv - yv)
		sy0 += fastExpNeg(yv)
	}
	return fastCombine((sx0+sx1)+(sx2+sx3), (sy0+sy1)+(sy2+sy3), (t0+t1)+(t2+t3))
}

// fastRow64 is fastRow32 for float64 logits.
func fastRow64(x, y []float64) float64 {
	n := len(x)
	y = y[:n]
	mx0, mx1, my0, my1 := x[0], x[0], y[0], y[0]
	k := 0
	for ; k+2 <= n; k += 2 {
		mx0 = max(mx0, x[k])
		mx1 = max(mx1, x[k+1])
		my0 = max(my0, y[k])
		my1 = max(my1, y[k+1])
	}
	for ; k < n; k++ {
		mx0 = max(mx0, x[k])
		my0 = max(my0, y[k])
	}
	mx, my := max(mx0, mx1), max(my0, my1)

	var sx0, sx1, sx2, sx3, sy0, sy1, sy2, sy3, t0, t1, t2, t3 float64
	k = 0
	for ; k+4 <= n; k += 4 {
		xs, ys := x[k:k+4:k+4], y[k:k+4:k+4]
		x0, x1, x2, x3 := xs[0], xs[1], xs[2], xs[3]
		y0, y1, y2, y3 := ys[0], ys[1], ys[2], ys[3]
		x0, x1, x2, x3 = x0-mx, x1-mx, x2-mx, x3-mx
		y0, y1, y2, y3 = y0-my, y1-my, y2-my, y3-my
		e0, e1, e2, e3 := fastExpNeg(x0), fastExpNeg(x1), fastExpNeg(x2), fastExpNeg(x3)
		sx0 += e0
		sx1 += e1
		sx2 += e2
		sx3 += e3
		t0 += e0 * (x0 - y0)
		t1 += e1 * (x1 - y1)
		t2 += e2 * (x2 - y2)
		t3 += e3 * (x3 - y3)
		sy0 += fastExpNeg(y0)
		sy1 += fastExpNeg(y1)
		sy2 += fastExpNeg(y2)
		sy3 += fastExpNeg(y3)
	}
	for ; k < n; k++ {
		xv, yv := x[k]-mx, y[k]-my
		e := fastExpNeg(xv)
		sx0 += e
		t0 += e * (xv - yv)
		sy0 += fastExpNeg(yv)
	}
	return fastCombine((sx0+sx1)+(sx2+sx3), (sy0+sy1)+(sy2+sy3), (t0+t1)+(t2+t3))
}

// fastOnline holds the running sums of one row while it is read block by block: the maxima
// seen so far and Sx, Sy, T relative to them (see fast.go). When a block raises a maximum by
// δx (δy), the sums are moved to the new reference point:
//
//	Sx ← e^−δx·Sx,   Sy ← e^−δy·Sy,   T ← e^−δx·(T − (δx − δy)·Sx)
//
// since every earlier a_k drops by δx and b_k by δy. So each block is read from memory once
// (its maximum, then its sums, while it is in the L1 cache) whatever the vocabulary size.
type fastOnline struct {
	mx, my, sx, sy, t float64
	started           bool
}

// raise moves the reference point to the maxima (mx, my) if they are larger. NaN maxima are
// ignored here; the NaN logits behind them make T NaN, and the row goes to the exact path.
func (o *fastOnline) raise(mx, my float64) {
	if !o.started {
		o.mx, o.my, o.started = mx, my, true
		return
	}
	if mx > o.mx || my > o.my {
		nmx, nmy := max(o.mx, mx), max(o.my, my)
		dx, dy := nmx-o.mx, nmy-o.my
		ex := math.Exp(-dx)
		o.t = ex * (o.t - (dx-dy)*o.sx)
		o.sx *= ex
		o.sy *= math.Exp(-dy)
		o.mx, o.my = nmx, nmy
	}
}

func (o *fastOnline) addLanes(acc *[12]float64) {
	o.sx += (acc[0] + acc[1]) + (acc[2] + acc[3])
	o.sy += (acc[4] + acc[5]) + (acc[6] + acc[7])
	o.t += (acc[8] + acc[9]) + (acc[10] + acc[11])
}

// add adds one element in float64.
func (o *fastOnline) add(x, y float64) {
	a, b := x-o.mx, y-o.my
	e := fastExpNeg(a)
	o.sx += e
	o.t += e * (a - b)
	o.sy += fastExpNeg(b)
}

// fastBlock is the number of elements of a row read per block: 2048 float32 or float64 of each
// of x and y (16 or 32 KB together) stay in the L1 cache between the max and the sums.
const fastBlock = 2048

// fastRow32AVX2 is fastRow32 with the AVX2 kernels (kernels_amd64.s), read in blocks of fastBlock
// (fastOnline): float32 arithmetic, 16 elements per iteration, an exp with relative error below
// 1e−7, lane sums carried to float64 every 128 elements. The last len(x) mod 16 elements go
// through the float64 Go code.
func fastRow32AVX2(x, y []float32) float64 {
	n := len(x)
	y = y[:n]
	nv := n &^ 15
	if nv == 0 {
		return fastRow32(x, y)
	}
	var o fastOnline
	var mm [2]float32
	var acc [12]float64
	for k := 0; k < nv; k += fastBlock {
		m := min(fastBlock, nv-k)
		fastMax2AVX2(&x[k], &y[k], m, &mm)
		o.raise(float64(mm[0]), float64(mm[1]))
		fastSumsAVX2(&x[k], &y[k], m, float32(o.mx), float32(o.my), &acc)
		o.addLanes(&acc)
	}
	o.tail(x, y, nv)
	return fastCombine(o.sx, o.sy, o.t)
}

// fastRow32AVX512 is fastRow32AVX2 with the AVX-512 kernels: 32 elements per iteration, the
// last len(x) mod 32 through the float64 Go code, and one pass over memory. The first block
// finds its maxima first (fastMax2AVX512) and sets the reference point; every later block is
// summed relative to the current reference in the pass that finds its maxima
// (fastSumsMaxAVX512), and the reference is raised afterwards (fastOnline.raise rescales these
// sums with the earlier ones). A block whose maximum lies more than fastHeadroom above the
// reference could overflow a float32 exponential: it is summed again after the raise. The
// two-pass version read every block twice, the second time from the L1 cache; here the memory
// reads overlap the arithmetic.
func fastRow32AVX512(x, y []float32) float64 {
	n := len(x)
	nv := n &^ 31
	if nv == 0 {
		return fastRow32(x, y)
	}
	var o fastOnline
	var mm [2]float32
	var acc [24]float64
	for k := 0; k < nv; k += fastBlock {
		m := min(fastBlock, nv-k)
		if k == 0 {
			fastMax2AVX512(&x[k], &y[k], m, &mm)
			o.raise(float64(mm[0]), float64(mm[1]))
			fastSumsAVX512(&x[k], &y[k], m, float32(o.mx), float32(o.my), &acc)
		} else {
			fastSumsMaxAVX512(&x[k], &y[k], m, float32(o.mx), float32(o.my), &acc, &mm)
			if float64(mm[0]) > o.mx+fastHeadroom || float64(mm[1]) > o.my+fastHeadroom {
				o.raise(float64(mm[0]), float64(mm[1]))
				fastSumsAVX512(&x[k], &y[k], m, float32(o.mx), float32(o.my), &acc)
			}
		}
		o.sx += ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
		o.sy += ((acc[8] + acc[9]) + (acc[10] + acc[11])) + ((acc[12] + acc[13]) + (acc[14] + acc[15]))
		o.t += ((acc[16] + acc[17]) + (acc[18] + acc[19])) + ((acc[20] + acc[21]) + (acc[22] + acc[23]))
		o.raise(float64(mm[0]), float64(mm[1]))
	}
	o.tail(x, y, nv)
	return fastCombine(o.sx, o.sy, o.t)
}

// fastHeadroom is how far above the reference point a block's logits may lie and still be
// summed relative to it: e^60 ≈ 1.1e26, so a float32 lane sum of 8 such terms, and its weight
// in T, stay far below float32's 3.4e38.
const fastHeadroom = 60

// tail adds the elements from nv on, in float64.
func (o *fastOnline) tail(x, y []float32, nv int) {
	n := len(x)
	if nv < n {
		tx, ty := x[nv], y[nv]
		for k := nv + 1; k < n; k++ {
			tx, ty = max(tx, x[k]), max(ty, y[k])
		}
		o.raise(float64(tx), float64(ty))
		for k := nv; k < n; k++ {
			o.add(float64(x[k]), float64(y[k]))
		}
	}
}

// fastRow64AVX2 is fastRow32AVX2 for float64 logits: four lanes per register, eight elements per
// iteration, an exp with relative error of a few ulps, float64 lane sums.
func fastRow64AVX2(x, y []float64) float64 {
	n := len(x)
	y = y[:n]
	nv := n &^ 7
	if nv == 0 {
		return fastRow64(x, y)
	}
	var o fastOnline
	var mm [2]float64
	var acc [12]float64
	for k := 0; k < nv; k += fastBlock {
		m := min(fastBlock, nv-k)
		fastMax64AVX2(&x[k], &y[k], m, &mm)
		o.raise(mm[0], mm[1])
		fastSums64AVX2(&x[k], &y[k], m, o.mx, o.my, &acc)
		o.addLanes(&acc)
	}
	if nv < n {
		tx, ty := x[nv], y[nv]
		for k := nv + 1; k < n; k++ {
			tx, ty = max(tx, x[k]), max(ty, y[k])
		}
		o.raise(tx, ty)
		for k := nv; k < n; k++ {
			o.add(x[k], y[k])
		}
	}
	return fastCombine(o.sx, o.sy, o.t)
}
