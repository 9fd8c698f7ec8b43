package kl

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

// fastRow32AVX2 is fastRow32 with the AVX2 kernels (fast_amd64.s): float32 arithmetic,
// 16 elements per iteration, an exp with relative error below 1e−7, lane sums carried to float64
// every 128 elements. The last len(x) mod 16 elements go through the float64 Go code.
func fastRow32AVX2(x, y []float32) float64 {
	n := len(x)
	y = y[:n]
	nv := n &^ 15
	if nv == 0 {
		return fastRow32(x, y)
	}
	var mm [2]float32
	fastMax2AVX2(&x[0], &y[0], nv, &mm)
	mx, my := mm[0], mm[1]
	for k := nv; k < n; k++ {
		mx = max(mx, x[k])
		my = max(my, y[k])
	}
	var acc [12]float64
	fastSumsAVX2(&x[0], &y[0], nv, mx, my, &acc)
	sx := (acc[0] + acc[1]) + (acc[2] + acc[3])
	sy := (acc[4] + acc[5]) + (acc[6] + acc[7])
	t := (acc[8] + acc[9]) + (acc[10] + acc[11])
	mx64, my64 := float64(mx), float64(my)
	for k := nv; k < n; k++ {
		xv, yv := float64(x[k])-mx64, float64(y[k])-my64
		e := fastExpNeg(xv)
		sx += e
		t += e * (xv - yv)
		sy += fastExpNeg(yv)
	}
	return fastCombine(sx, sy, t)
}

// fastRow64AVX2 is fastRow64 with the AVX2 kernels (fast_amd64.s): float64 arithmetic, eight
// elements per iteration, an exp with relative error of a few ulps. The last len(x) mod 8
// elements go through the Go code.
func fastRow64AVX2(x, y []float64) float64 {
	n := len(x)
	y = y[:n]
	nv := n &^ 7
	if nv == 0 {
		return fastRow64(x, y)
	}
	var mm [2]float64
	fastMax64AVX2(&x[0], &y[0], nv, &mm)
	mx, my := mm[0], mm[1]
	for k := nv; k < n; k++ {
		mx = max(mx, x[k])
		my = max(my, y[k])
	}
	var acc [12]float64
	fastSums64AVX2(&x[0], &y[0], nv, mx, my, &acc)
	sx := (acc[0] + acc[1]) + (acc[2] + acc[3])
	sy := (acc[4] + acc[5]) + (acc[6] + acc[7])
	t := (acc[8] + acc[9]) + (acc[10] + acc[11])
	for k := nv; k < n; k++ {
		xv, yv := x[k]-mx, y[k]-my
		e := fastExpNeg(xv)
		sx += e
		t += e * (xv - yv)
		sy += fastExpNeg(yv)
	}
	return fastCombine(sx, sy, t)
}
