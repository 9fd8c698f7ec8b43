//go:build amd64 && !amd64.v3

#include "textflag.h"

// AVX2+FMA kernels of float64 exp and tanh that return exactly what the standard library's
// math.Exp (archExp in exp_amd64.s, its FMA branch, taken whenever the CPU has FMA) and
// math.Tanh (tanh.go, compiled without FMA fusion as GOAMD64 < v3 does) return, on 4 elements at
// a time (see tanh64.go). Every step is the scalar code's step on 4 lanes: the same operations
// on the same float64 constants in the same order; branches become lane masks. R8 points to
// vecConsts64: 32-byte rows of 4 copies each, in the order of the constants below.

#define ABSMASK 0(R8)
#define SIGNMASK 32(R8)
#define LOG2E 64(R8)
#define LN2U 96(R8)
#define LN2L 128(R8)
#define SIXTEENTH 160(R8)
#define C8 192(R8)
#define C7 224(R8)
#define C6 256(R8)
#define C5 288(R8)
#define C4 320(R8)
#define C3 352(R8)
#define HALF 384(R8)
#define ONE 416(R8)
#define TWO 448(R8)
#define BIAS 480(R8)
#define KMAX 512(R8)
#define KMIN 544(R8)
#define HALFMAXLOG 576(R8)
#define FIVEEIGHTHS 608(R8)
#define P0 640(R8)
#define P1 672(R8)
#define P2 704(R8)
#define Q0 736(R8)
#define Q1 768(R8)
#define Q2 800(R8)

// EXP4 sets Y0 = math.Exp(Y0) lane by lane for every lane whose k = round(LOG2E·x) lies in
// [−1022, 1023] (archExp's path without its special cases: no overflow, underflow, denormal,
// Inf or NaN); it leaves k in X2 for the caller's range check and uses Y1–Y3.
#define EXP4 \
	VMULPD       LOG2E, Y0, Y1 /* LOG2E·x */ \
	VCVTPD2DQY   Y1, X2 /* k = round(LOG2E·x) */ \
	VCVTDQ2PD    X2, Y1 /* float(k) */ \
	VFNMADD231PD LN2U, Y1, Y0 /* r = x − k·LN2U, fused */ \
	VFNMADD231PD LN2L, Y1, Y0 /* r −= k·LN2L, fused */ \
	VMULPD       SIXTEENTH, Y0, Y0 /* r /= 16 */ \
	VMOVUPD      C8, Y1 /* Taylor series of (e^r − 1)/r, Horner, fused */ \
	VFMADD213PD  C7, Y0, Y1 \
	VFMADD213PD  C6, Y0, Y1 \
	VFMADD213PD  C5, Y0, Y1 \
	VFMADD213PD  C4, Y0, Y1 \
	VFMADD213PD  C3, Y0, Y1 \
	VFMADD213PD  HALF, Y0, Y1 \
	VFMADD213PD  ONE, Y0, Y1 \
	VMULPD       Y1, Y0, Y0 /* e^r − 1, then four squarings t ← t·(t + 2) */ \
	VADDPD       TWO, Y0, Y1 \
	VMULPD       Y1, Y0, Y0 \
	VADDPD       TWO, Y0, Y1 \
	VMULPD       Y1, Y0, Y0 \
	VADDPD       TWO, Y0, Y1 \
	VMULPD       Y1, Y0, Y0 \
	VADDPD       TWO, Y0, Y1 \
	VFMADD213PD  ONE, Y1, Y0 /* t·(t + 2) + 1, fused */ \
	VPMOVSXDQ    X2, Y3 /* 2^k: (k + 1023) << 52 */ \
	VPADDQ       BIAS, Y3, Y3 \
	VPSLLQ       $52, Y3, Y3 \
	VMULPD       Y3, Y0, Y0

// TANH4 sets Y0 = math.Tanh(Y8) lane by lane; it uses Y1–Y9. math.Tanh: z = |x|;
// z > MAXLOG/2: ±1; z ≥ 0.625: ±(1 − 2/(Exp(2z) + 1)); x = 0: x;
// otherwise x + x·s·((P0·s + P1)·s + P2)/(((s + Q0)·s + Q1)·s + Q2) with s = x².
#define TANH4 \
	VANDPD    ABSMASK, Y8, Y9 /* z = |x| */ \
	VADDPD    Y9, Y9, Y0 /* 2z */ \
	EXP4 /* s = Exp(2z), garbage in lanes that do not use it */ \
	VADDPD    ONE, Y0, Y0 /* s + 1 */ \
	VMOVUPD   TWO, Y1 \
	VDIVPD    Y0, Y1, Y1 /* 2/(s + 1) */ \
	VMOVUPD   ONE, Y2 \
	VSUBPD    Y1, Y2, Y2 /* 1 − 2/(s + 1), positive */ \
	VANDPD    SIGNMASK, Y8, Y5 /* x's sign */ \
	VXORPD    Y5, Y2, Y2 /* negated where x < 0 */ \
	VORPD     ONE, Y5, Y6 /* ±1 */ \
	VMULPD    Y8, Y8, Y7 /* s = x·x */ \
	VMULPD    P0, Y7, Y0 \
	VADDPD    P1, Y0, Y0 \
	VMULPD    Y7, Y0, Y0 \
	VADDPD    P2, Y0, Y0 /* (P0·s + P1)·s + P2 */ \
	VADDPD    Q0, Y7, Y1 \
	VMULPD    Y7, Y1, Y1 \
	VADDPD    Q1, Y1, Y1 \
	VMULPD    Y7, Y1, Y1 \
	VADDPD    Q2, Y1, Y1 /* ((s + Q0)·s + Q1)·s + Q2 */ \
	VMULPD    Y7, Y8, Y3 /* x·s */ \
	VMULPD    Y0, Y3, Y3 /* ·numerator */ \
	VDIVPD    Y1, Y3, Y3 /* /denominator */ \
	VADDPD    Y3, Y8, Y0 /* x + … */ \
	VXORPD    Y4, Y4, Y4 \
	VCMPPD    $0x00, Y4, Y8, Y1 /* x == 0 → x */ \
	VBLENDVPD Y1, Y8, Y0, Y0 \
	VCMPPD    $0x1D, FIVEEIGHTHS, Y9, Y1 /* z ≥ 0.625 → exp branch */ \
	VBLENDVPD Y1, Y2, Y0, Y0 \
	VCMPPD    $0x1E, HALFMAXLOG, Y9, Y1 /* z > MAXLOG/2 → ±1 */ \
	VBLENDVPD Y1, Y6, Y0, Y0

// func exp64AVX2(dst, src *float64, n int) (done int)   (n a multiple of 4)
//
// Stops before the first group of 4 that has a lane outside EXP4's range and returns how many
// elements it wrote; the caller finishes that group with math.Exp.
TEXT ·exp64AVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	LEAQ ·vecConsts64(SB), R8
	XORQ AX, AX
	SHRQ $2, CX
	JZ   exp_done

exp_loop:
	VMOVUPD  (SI), Y0
	EXP4
	VPCMPGTD KMAX, X2, X4 // k > 1023
	VMOVDQU  KMIN, X5
	VPCMPGTD X2, X5, X5   // k < −1022
	VPOR     X4, X5, X4
	VPTEST   X4, X4
	JNZ      exp_done
	VMOVUPD  Y0, (DI)
	ADDQ     $32, SI
	ADDQ     $32, DI
	ADDQ     $4, AX
	DECQ     CX
	JNZ      exp_loop

exp_done:
	MOVQ AX, done+24(FP)
	VZEROUPPER
	RET

// func tanh64AVX2(dst, src *float64, n int)   (n a multiple of 4)
TEXT ·tanh64AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	LEAQ ·vecConsts64(SB), R8
	SHRQ $2, CX
	JZ   tanh64_done

tanh64_loop:
	VMOVUPD (SI), Y8
	TANH4
	VMOVUPD Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     tanh64_loop

tanh64_done:
	VZEROUPPER
	RET

// func tanh32x64AVX2(dst, src *float32, n int)   (n a multiple of 4)
//
// float32(math.Tanh(float64(x))): widening is exact, the narrowing rounds to nearest as Go's
// conversion does.
TEXT ·tanh32x64AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	LEAQ ·vecConsts64(SB), R8
	SHRQ $2, CX
	JZ   tanh32_done

tanh32_loop:
	VCVTPS2PD  (SI), Y8
	TANH4
	VCVTPD2PSY Y0, X0
	VMOVUPS    X0, (DI)
	ADDQ       $16, SI
	ADDQ       $16, DI
	DECQ       CX
	JNZ        tanh32_loop

tanh32_done:
	VZEROUPPER
	RET
