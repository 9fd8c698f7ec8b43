//go:build amd64 && !amd64.v3

#include "textflag.h"

// AVX2 kernels of float32 exp and tanh that return exactly what github.com/chewxy/math32's Exp
// (exp_amd64.s) and Tanh (tanh.go) return, on 8 elements at a time (see engine.go). Every step
// is the scalar code's step on 8 lanes: the same operations on the same float32 constants in the
// same order, no FMA; branches become lane masks. R8 points to vecConsts: 32-byte rows of 8
// copies each, in the order of the constants below.

#define ABSMASK 0(R8)
#define POSINF 32(R8)
#define NEGINF 64(R8)
#define LOG2E 96(R8)
#define LN2U 128(R8)
#define LN2L 160(R8)
#define SIXTEENTH 192(R8)
#define T4 224(R8)
#define T3 256(R8)
#define T2 288(R8)
#define T1 320(R8)
#define T0 352(R8)
#define TWO 384(R8)
#define ONE 416(R8)
#define BIAS 448(R8)
#define EMAX 480(R8)
#define HALFMAXLOG 512(R8)
#define FIVEEIGHTHS 544(R8)
#define P1 576(R8)
#define P2 608(R8)
#define P3 640(R8)
#define P4 672(R8)
#define P5 704(R8)
#define SIGNMASK 736(R8)

// EXP8 sets Y0 = math32.Exp(Y0) lane by lane; it uses Y1–Y7.
#define EXP8 \
	VANDPS    ABSMASK, Y0, Y1 /* |x| bits */ \
	VMOVUPS   POSINF, Y2        \
	VPCMPGTD  Y1, Y2, Y3 /* finite: +Inf > |x| (as int32) */ \
	VMULPS    LOG2E, Y0, Y4 /* LOG2E·x */ \
	VCVTPS2DQ Y4, Y5 /* k = round(LOG2E·x) */ \
	VCVTDQ2PS Y5, Y4 /* float(k) */ \
	VMULPS    LN2U, Y4, Y6      \
	VSUBPS    Y6, Y0, Y6 /* r = x − LN2U·k */ \
	VMULPS    LN2L, Y4, Y7      \
	VSUBPS    Y7, Y6, Y6 /* r −= LN2L·k */ \
	VMULPS    SIXTEENTH, Y6, Y6 /* r /= 16 */ \
	VADDPS    T4, Y4, Y7 /* p = k + T4 (sic: math32 starts the series from k) */ \
	VMULPS    Y6, Y7, Y7        \
	VADDPS    T3, Y7, Y7        \
	VMULPS    Y6, Y7, Y7        \
	VADDPS    T2, Y7, Y7        \
	VMULPS    Y6, Y7, Y7        \
	VADDPS    T1, Y7, Y7        \
	VMULPS    Y6, Y7, Y7        \
	VADDPS    T0, Y7, Y7        \
	VMULPS    Y7, Y6, Y6 /* r·p */ \
	VADDPS    TWO, Y6, Y7 /* four times r = r·(2 + r) */ \
	VMULPS    Y7, Y6, Y6        \
	VADDPS    TWO, Y6, Y7       \
	VMULPS    Y7, Y6, Y6        \
	VADDPS    TWO, Y6, Y7       \
	VMULPS    Y7, Y6, Y6        \
	VADDPS    TWO, Y6, Y7       \
	VMULPS    Y7, Y6, Y6        \
	VADDPS    ONE, Y6, Y6 /* r + 1 */ \
	VPADDD    BIAS, Y5, Y5 /* e = k + 127 */ \
	VPXOR     Y7, Y7, Y7        \
	VPCMPGTD  Y7, Y5, Y7 /* e > 0 (else underflow: 0) */ \
	VPCMPGTD  EMAX, Y5, Y4 /* e > 254 (overflow: +Inf) */ \
	VPSLLD    $23, Y5, Y5 /* 2^(e−127) */ \
	VMULPS    Y5, Y6, Y6        \
	VBLENDVPS Y4, Y2, Y6, Y6 /* overflow → +Inf */ \
	VANDPS    Y7, Y6, Y6 /* underflow → 0 */ \
	VPCMPEQD  NEGINF, Y0, Y4 /* not finite: −Inf → 0, NaN and +Inf → x */ \
	VANDNPS   Y0, Y4, Y4        \
	VBLENDVPS Y3, Y6, Y4, Y0

// func exp32AVX2(dst, src *float32, n int)   (n a multiple of 8)
TEXT ·exp32AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	LEAQ ·vecConsts(SB), R8
	SHRQ $3, CX
	JZ   exp_done

exp_loop:
	VMOVUPS (SI), Y0
	EXP8
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     exp_loop

exp_done:
	VZEROUPPER
	RET

// func tanh32AVX2(dst, src *float32, n int)   (n a multiple of 8)
//
// math32.Tanh: z = |x|; z > 44.01…: ±1; z ≥ 0.625: ±(1 − 2/(Exp(2z) + 1)); x = 0: x;
// otherwise ((((P1·s + P2)·s − P3)·s + P4)·s − P5)·s·x + x with s = x².
TEXT ·tanh32AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	LEAQ ·vecConsts(SB), R8
	SHRQ $3, CX
	JZ   tanh_done

tanh_loop:
	VMOVUPS (SI), Y8
	VANDPS  ABSMASK, Y8, Y9 // z = |x|
	VADDPS  Y9, Y9, Y0      // z + z
	EXP8                    // s = Exp(z + z)
	VADDPS  ONE, Y0, Y0     // s + 1
	VMOVUPS TWO, Y1
	VDIVPS  Y0, Y1, Y1      // 2/(s + 1)
	VMOVUPS ONE, Y2
	VSUBPS  Y1, Y2, Y2      // 1 − 2/(s + 1)
	VXORPS  Y3, Y3, Y3
	VCMPPS  $0x11, Y3, Y8, Y4 // x < 0
	VANDPS  SIGNMASK, Y4, Y5
	VXORPS  Y5, Y2, Y2      // negated where x < 0
	VMOVUPS ONE, Y6
	VXORPS  Y5, Y6, Y6      // ±1
	VMULPS  Y8, Y8, Y7      // s = x·x
	VMULPS  P1, Y7, Y0
	VADDPS  P2, Y0, Y0
	VMULPS  Y7, Y0, Y0
	VSUBPS  P3, Y0, Y0
	VMULPS  Y7, Y0, Y0
	VADDPS  P4, Y0, Y0
	VMULPS  Y7, Y0, Y0
	VSUBPS  P5, Y0, Y0
	VMULPS  Y7, Y0, Y0
	VMULPS  Y8, Y0, Y0
	VADDPS  Y8, Y0, Y0
	VCMPPS  $0x00, Y3, Y8, Y1    // x == 0 → x
	VBLENDVPS Y1, Y8, Y0, Y0
	VCMPPS  $0x1D, FIVEEIGHTHS, Y9, Y1 // z ≥ 0.625
	VBLENDVPS Y1, Y2, Y0, Y0
	VCMPPS  $0x1E, HALFMAXLOG, Y9, Y1  // z > 0.5·MAXLOG
	VBLENDVPS Y1, Y6, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     tanh_loop

tanh_done:
	VZEROUPPER
	RET
