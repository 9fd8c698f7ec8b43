//go:build !amd64

package fast

// Without the amd64 assembly the pure-Go kernels run; these stubs are never called.

const fastHaveAVX2 = false

func fastSumsAVX2(x, y *float32, n int, mx, my float32, acc *[12]float64) {}

func fastMax2AVX2(x, y *float32, n int, out *[2]float32) {}

func fastSums64AVX2(x, y *float64, n int, mx, my float64, acc *[12]float64) {}

func fastMax64AVX2(x, y *float64, n int, out *[2]float64) {}

var fastHaveAVX512 = false

func fastSumsAVX512(x, y *float32, n int, mx, my float32, acc *[24]float64) {}

func fastMax2AVX512(x, y *float32, n int, out *[2]float32) {}

func fastSumsMaxAVX512(x, y *float32, n int, mx, my float32, acc *[24]float64, out *[2]float32) {}
