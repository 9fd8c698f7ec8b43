package env

import "math"

// sincos returns math.Sincos(x) bit for bit, faster for |x| < π/4 (CartPole's angles while the
// pole is up): there math.Sincos needs no argument reduction and evaluates the two Cephes
// polynomials below directly (coefficients of Cephes' sin.c, which Go's math package uses), so
// this inlinable fast path evaluates the same expressions. Other arguments go to math.Sincos.
func sincos(x float64) (sin, cos float64) {
	if !(math.Abs(x)*(4/math.Pi) < 1) || x == 0 {
		return math.Sincos(x)
	}
	zz := x * x
	cos = 1.0 - 0.5*zz + zz*zz*((((((-1.13585365213876817300e-11*zz)+2.08757008419747316778e-9)*zz+
		-2.75573141792967388112e-7)*zz+2.48015872888517045348e-5)*zz+-1.38888888888730564116e-3)*zz+
		4.16666666666665929218e-2)
	sin = x + x*zz*((((((1.58962301576546568060e-10*zz)+-2.50507477628578072866e-8)*zz+
		2.75573136213857245213e-6)*zz+-1.98412698295895385996e-4)*zz+8.33333333332211858878e-3)*zz+
		-1.66666666666666307295e-1)
	return sin, cos
}
