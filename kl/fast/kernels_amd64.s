//go:build amd64

#include "textflag.h"

// AVX2 + FMA kernels of the fused KL pass for float32 logits (see kernels_amd64.go and fast.go).
// Constants: eight float32 (or int32) copies each, 32 bytes, read as memory operands.

DATA fastc<>+0(SB)/4, $0x3fb8aa3b
DATA fastc<>+4(SB)/4, $0x3fb8aa3b
DATA fastc<>+8(SB)/4, $0x3fb8aa3b
DATA fastc<>+12(SB)/4, $0x3fb8aa3b
DATA fastc<>+16(SB)/4, $0x3fb8aa3b
DATA fastc<>+20(SB)/4, $0x3fb8aa3b
DATA fastc<>+24(SB)/4, $0x3fb8aa3b
DATA fastc<>+28(SB)/4, $0x3fb8aa3b
DATA fastc<>+32(SB)/4, $0x3f318000
DATA fastc<>+36(SB)/4, $0x3f318000
DATA fastc<>+40(SB)/4, $0x3f318000
DATA fastc<>+44(SB)/4, $0x3f318000
DATA fastc<>+48(SB)/4, $0x3f318000
DATA fastc<>+52(SB)/4, $0x3f318000
DATA fastc<>+56(SB)/4, $0x3f318000
DATA fastc<>+60(SB)/4, $0x3f318000
DATA fastc<>+64(SB)/4, $0xb95e8083
DATA fastc<>+68(SB)/4, $0xb95e8083
DATA fastc<>+72(SB)/4, $0xb95e8083
DATA fastc<>+76(SB)/4, $0xb95e8083
DATA fastc<>+80(SB)/4, $0xb95e8083
DATA fastc<>+84(SB)/4, $0xb95e8083
DATA fastc<>+88(SB)/4, $0xb95e8083
DATA fastc<>+92(SB)/4, $0xb95e8083
DATA fastc<>+96(SB)/4, $0xc2ae0000
DATA fastc<>+100(SB)/4, $0xc2ae0000
DATA fastc<>+104(SB)/4, $0xc2ae0000
DATA fastc<>+108(SB)/4, $0xc2ae0000
DATA fastc<>+112(SB)/4, $0xc2ae0000
DATA fastc<>+116(SB)/4, $0xc2ae0000
DATA fastc<>+120(SB)/4, $0xc2ae0000
DATA fastc<>+124(SB)/4, $0xc2ae0000
DATA fastc<>+128(SB)/4, $0x3f800000
DATA fastc<>+132(SB)/4, $0x3f800000
DATA fastc<>+136(SB)/4, $0x3f800000
DATA fastc<>+140(SB)/4, $0x3f800000
DATA fastc<>+144(SB)/4, $0x3f800000
DATA fastc<>+148(SB)/4, $0x3f800000
DATA fastc<>+152(SB)/4, $0x3f800000
DATA fastc<>+156(SB)/4, $0x3f800000
DATA fastc<>+160(SB)/4, $0x3f000000
DATA fastc<>+164(SB)/4, $0x3f000000
DATA fastc<>+168(SB)/4, $0x3f000000
DATA fastc<>+172(SB)/4, $0x3f000000
DATA fastc<>+176(SB)/4, $0x3f000000
DATA fastc<>+180(SB)/4, $0x3f000000
DATA fastc<>+184(SB)/4, $0x3f000000
DATA fastc<>+188(SB)/4, $0x3f000000
DATA fastc<>+192(SB)/4, $0x3e2aaaab
DATA fastc<>+196(SB)/4, $0x3e2aaaab
DATA fastc<>+200(SB)/4, $0x3e2aaaab
DATA fastc<>+204(SB)/4, $0x3e2aaaab
DATA fastc<>+208(SB)/4, $0x3e2aaaab
DATA fastc<>+212(SB)/4, $0x3e2aaaab
DATA fastc<>+216(SB)/4, $0x3e2aaaab
DATA fastc<>+220(SB)/4, $0x3e2aaaab
DATA fastc<>+224(SB)/4, $0x3d2aaaab
DATA fastc<>+228(SB)/4, $0x3d2aaaab
DATA fastc<>+232(SB)/4, $0x3d2aaaab
DATA fastc<>+236(SB)/4, $0x3d2aaaab
DATA fastc<>+240(SB)/4, $0x3d2aaaab
DATA fastc<>+244(SB)/4, $0x3d2aaaab
DATA fastc<>+248(SB)/4, $0x3d2aaaab
DATA fastc<>+252(SB)/4, $0x3d2aaaab
DATA fastc<>+256(SB)/4, $0x3c088889
DATA fastc<>+260(SB)/4, $0x3c088889
DATA fastc<>+264(SB)/4, $0x3c088889
DATA fastc<>+268(SB)/4, $0x3c088889
DATA fastc<>+272(SB)/4, $0x3c088889
DATA fastc<>+276(SB)/4, $0x3c088889
DATA fastc<>+280(SB)/4, $0x3c088889
DATA fastc<>+284(SB)/4, $0x3c088889
DATA fastc<>+288(SB)/4, $0x3ab60b61
DATA fastc<>+292(SB)/4, $0x3ab60b61
DATA fastc<>+296(SB)/4, $0x3ab60b61
DATA fastc<>+300(SB)/4, $0x3ab60b61
DATA fastc<>+304(SB)/4, $0x3ab60b61
DATA fastc<>+308(SB)/4, $0x3ab60b61
DATA fastc<>+312(SB)/4, $0x3ab60b61
DATA fastc<>+316(SB)/4, $0x3ab60b61
DATA fastc<>+320(SB)/4, $0x0000007f
DATA fastc<>+324(SB)/4, $0x0000007f
DATA fastc<>+328(SB)/4, $0x0000007f
DATA fastc<>+332(SB)/4, $0x0000007f
DATA fastc<>+336(SB)/4, $0x0000007f
DATA fastc<>+340(SB)/4, $0x0000007f
DATA fastc<>+344(SB)/4, $0x0000007f
DATA fastc<>+348(SB)/4, $0x0000007f
DATA fastc<>+352(SB)/4, $0x39500d01
DATA fastc<>+356(SB)/4, $0x39500d01
DATA fastc<>+360(SB)/4, $0x39500d01
DATA fastc<>+364(SB)/4, $0x39500d01
DATA fastc<>+368(SB)/4, $0x39500d01
DATA fastc<>+372(SB)/4, $0x39500d01
DATA fastc<>+376(SB)/4, $0x39500d01
DATA fastc<>+380(SB)/4, $0x39500d01
GLOBL fastc<>(SB), RODATA|NOPTR, $384

#define C_LOG2E fastc<>+0(SB)
#define C_LN2HI fastc<>+32(SB)
#define C_LN2LO fastc<>+64(SB)
#define C_MIN fastc<>+96(SB)
#define C_ONE fastc<>+128(SB)
#define C_C2 fastc<>+160(SB)
#define C_C3 fastc<>+192(SB)
#define C_C4 fastc<>+224(SB)
#define C_C5 fastc<>+256(SB)
#define C_C6 fastc<>+288(SB)
#define C_BIAS fastc<>+320(SB)
#define C_C7 fastc<>+352(SB)

// EXP8(A, N, P): P = e^A for the eight float32 lanes of A (A and N are clobbered).
// A is clamped below at −87 (e^−87 ≈ 1.6e−38 > 0, the float32 normal range); then
// n = round(A·log2 e), r = A − n·ln2 (ln2 split hi/lo, fused), e^r by the degree-6 Taylor
// polynomial (|r| ≤ ln2/2, truncation error ≤ 1.2e−7 relative) and 2^n built in the exponent bits.
#define EXP8(A, N, P) \
	VMAXPS C_MIN, A, A \
	VMULPS C_LOG2E, A, N \
	VCVTPS2DQ N, N \
	VCVTDQ2PS N, P \
	VFNMADD231PS C_LN2HI, P, A \
	VFNMADD231PS C_LN2LO, P, A \
	VMOVUPS C_C7, P \
	VFMADD213PS C_C6, A, P \
	VFMADD213PS C_C5, A, P \
	VFMADD213PS C_C4, A, P \
	VFMADD213PS C_C3, A, P \
	VFMADD213PS C_C2, A, P \
	VFMADD213PS C_ONE, A, P \
	VFMADD213PS C_ONE, A, P \
	VPADDD C_BIAS, N, N \
	VPSLLD $23, N, N \
	VMULPS N, P, P

// HALF(OFF, SX, SY, T): one block of eight lanes at byte offset OFF of x (SI) and y (DI).
// mx is in Y14, my in Y15. The weight of T is the difference of the two exp arguments as
// computed (not x − y), so their rounding acts like a tiny change of the logits.
#define HALF(OFF, SX, SY, T) \
	VMOVUPS OFF(SI), Y0 \
	VMOVUPS OFF(DI), Y1 \
	VSUBPS Y14, Y0, Y2 \
	VSUBPS Y15, Y1, Y5 \
	VSUBPS Y5, Y2, Y0 \
	EXP8(Y2, Y3, Y4) \
	EXP8(Y5, Y6, Y7) \
	VADDPS Y4, SX, SX \
	VADDPS Y7, SY, SY \
	VFMADD231PS Y0, Y4, T

// FLUSH(F, OFF): adds the eight float32 lanes of F (YF) into the four float64 at OFF(DX).
#define FLUSH(F, XF, OFF) \
	VCVTPS2PD XF, Y0 \
	VEXTRACTF128 $1, F, X1 \
	VCVTPS2PD X1, Y1 \
	VADDPD Y1, Y0, Y0 \
	VADDPD OFF(DX), Y0, Y0 \
	VMOVUPD Y0, OFF(DX)

// func fastSumsAVX2(x, y *float32, n int, mx, my float32, acc *[12]float64)
// n > 0 is a multiple of 16. Writes acc[0:4] (lanes of Σ e^(x−mx)), acc[4:8] (Σ e^(y−my)) and
// acc[8:12] (Σ e^(x−mx)·((x−mx)−(y−my))). The float32 lane sums cover at most 128 elements (8 terms per
// lane) before they are added into the float64 accumulators, which keeps the summation error
// at the level of a few float32 roundings whatever n is.
TEXT ·fastSumsAVX2(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	VBROADCASTSS mx+24(FP), Y14
	VBROADCASTSS my+28(FP), Y15
	MOVQ acc+32(FP), DX
	VXORPD Y0, Y0, Y0
	VMOVUPD Y0, 0(DX)
	VMOVUPD Y0, 32(DX)
	VMOVUPD Y0, 64(DX)

sumsblock:
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	MOVQ CX, BX
	SHRQ $4, BX
	CMPQ BX, $8
	JLE  sumsloop
	MOVQ $8, BX

sumsloop:
	HALF(0, Y8, Y9, Y10)
	HALF(32, Y11, Y12, Y13)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	DECQ BX
	JNZ  sumsloop

	VADDPS Y11, Y8, Y8
	VADDPS Y12, Y9, Y9
	VADDPS Y13, Y10, Y10
	FLUSH(Y8, X8, 0)
	FLUSH(Y9, X9, 32)
	FLUSH(Y10, X10, 64)
	TESTQ CX, CX
	JNZ   sumsblock
	VZEROUPPER
	RET

// HMAX(Y, X, T): horizontal max of the eight lanes of Y into the low lane of X (T clobbered).
#define HMAX(Y, X, XT) \
	VEXTRACTF128 $1, Y, XT \
	VMAXPS XT, X, X \
	VPERMILPS $0x4E, X, XT \
	VMAXPS XT, X, X \
	VPERMILPS $0xB1, X, XT \
	VMAXPS XT, X, X

// func fastMax2AVX2(x, y *float32, n int, out *[2]float32)
// n > 0 is a multiple of 16. out[0] = max x[0:n], out[1] = max y[0:n].
TEXT ·fastMax2AVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	MOVQ out+24(FP), DX
	VMOVUPS (SI), Y0
	VMOVUPS Y0, Y1
	VMOVUPS (DI), Y2
	VMOVUPS Y2, Y3

maxloop:
	VMAXPS (SI), Y0, Y0
	VMAXPS 32(SI), Y1, Y1
	VMAXPS (DI), Y2, Y2
	VMAXPS 32(DI), Y3, Y3
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ  maxloop

	VMAXPS Y1, Y0, Y0
	VMAXPS Y3, Y2, Y2
	HMAX(Y0, X0, X4)
	HMAX(Y2, X2, X5)
	VMOVSS X0, 0(DX)
	VMOVSS X2, 4(DX)
	VZEROUPPER
	RET

// ---- float64 kernels: four lanes per register ----
// Constants: four float64 (or int64) copies each, 32 bytes.
DATA fastd<>+0(SB)/8, $0x3ff71547652b82fe
DATA fastd<>+8(SB)/8, $0x3ff71547652b82fe
DATA fastd<>+16(SB)/8, $0x3ff71547652b82fe
DATA fastd<>+24(SB)/8, $0x3ff71547652b82fe
DATA fastd<>+32(SB)/8, $0x4338000000000000
DATA fastd<>+40(SB)/8, $0x4338000000000000
DATA fastd<>+48(SB)/8, $0x4338000000000000
DATA fastd<>+56(SB)/8, $0x4338000000000000
DATA fastd<>+64(SB)/8, $0x3fe62e4200000000
DATA fastd<>+72(SB)/8, $0x3fe62e4200000000
DATA fastd<>+80(SB)/8, $0x3fe62e4200000000
DATA fastd<>+88(SB)/8, $0x3fe62e4200000000
DATA fastd<>+96(SB)/8, $0x3e9fdf473de6af28
DATA fastd<>+104(SB)/8, $0x3e9fdf473de6af28
DATA fastd<>+112(SB)/8, $0x3e9fdf473de6af28
DATA fastd<>+120(SB)/8, $0x3e9fdf473de6af28
DATA fastd<>+128(SB)/8, $0xc085e00000000000
DATA fastd<>+136(SB)/8, $0xc085e00000000000
DATA fastd<>+144(SB)/8, $0xc085e00000000000
DATA fastd<>+152(SB)/8, $0xc085e00000000000
DATA fastd<>+160(SB)/8, $0x3ff0000000000000
DATA fastd<>+168(SB)/8, $0x3ff0000000000000
DATA fastd<>+176(SB)/8, $0x3ff0000000000000
DATA fastd<>+184(SB)/8, $0x3ff0000000000000
DATA fastd<>+192(SB)/8, $0x00000000000003ff
DATA fastd<>+200(SB)/8, $0x00000000000003ff
DATA fastd<>+208(SB)/8, $0x00000000000003ff
DATA fastd<>+216(SB)/8, $0x00000000000003ff
DATA fastd<>+224(SB)/8, $0x3fe0000000000000
DATA fastd<>+232(SB)/8, $0x3fe0000000000000
DATA fastd<>+240(SB)/8, $0x3fe0000000000000
DATA fastd<>+248(SB)/8, $0x3fe0000000000000
DATA fastd<>+256(SB)/8, $0x3fc5555555555555
DATA fastd<>+264(SB)/8, $0x3fc5555555555555
DATA fastd<>+272(SB)/8, $0x3fc5555555555555
DATA fastd<>+280(SB)/8, $0x3fc5555555555555
DATA fastd<>+288(SB)/8, $0x3fa5555555555555
DATA fastd<>+296(SB)/8, $0x3fa5555555555555
DATA fastd<>+304(SB)/8, $0x3fa5555555555555
DATA fastd<>+312(SB)/8, $0x3fa5555555555555
DATA fastd<>+320(SB)/8, $0x3f81111111111111
DATA fastd<>+328(SB)/8, $0x3f81111111111111
DATA fastd<>+336(SB)/8, $0x3f81111111111111
DATA fastd<>+344(SB)/8, $0x3f81111111111111
DATA fastd<>+352(SB)/8, $0x3f56c16c16c16c17
DATA fastd<>+360(SB)/8, $0x3f56c16c16c16c17
DATA fastd<>+368(SB)/8, $0x3f56c16c16c16c17
DATA fastd<>+376(SB)/8, $0x3f56c16c16c16c17
DATA fastd<>+384(SB)/8, $0x3f2a01a01a01a01a
DATA fastd<>+392(SB)/8, $0x3f2a01a01a01a01a
DATA fastd<>+400(SB)/8, $0x3f2a01a01a01a01a
DATA fastd<>+408(SB)/8, $0x3f2a01a01a01a01a
DATA fastd<>+416(SB)/8, $0x3efa01a01a01a01a
DATA fastd<>+424(SB)/8, $0x3efa01a01a01a01a
DATA fastd<>+432(SB)/8, $0x3efa01a01a01a01a
DATA fastd<>+440(SB)/8, $0x3efa01a01a01a01a
DATA fastd<>+448(SB)/8, $0x3ec71de3a556c734
DATA fastd<>+456(SB)/8, $0x3ec71de3a556c734
DATA fastd<>+464(SB)/8, $0x3ec71de3a556c734
DATA fastd<>+472(SB)/8, $0x3ec71de3a556c734
DATA fastd<>+480(SB)/8, $0x3e927e4fb7789f5c
DATA fastd<>+488(SB)/8, $0x3e927e4fb7789f5c
DATA fastd<>+496(SB)/8, $0x3e927e4fb7789f5c
DATA fastd<>+504(SB)/8, $0x3e927e4fb7789f5c
DATA fastd<>+512(SB)/8, $0x3e5ae64567f544e4
DATA fastd<>+520(SB)/8, $0x3e5ae64567f544e4
DATA fastd<>+528(SB)/8, $0x3e5ae64567f544e4
DATA fastd<>+536(SB)/8, $0x3e5ae64567f544e4
GLOBL fastd<>(SB), RODATA|NOPTR, $544

#define D_LOG2E fastd<>+0(SB)
#define D_MAGIC fastd<>+32(SB)
#define D_LN2HI fastd<>+64(SB)
#define D_LN2LO fastd<>+96(SB)
#define D_MIN fastd<>+128(SB)
#define D_ONE fastd<>+160(SB)
#define D_BIAS fastd<>+192(SB)
#define D_C2 fastd<>+224(SB)
#define D_C3 fastd<>+256(SB)
#define D_C4 fastd<>+288(SB)
#define D_C5 fastd<>+320(SB)
#define D_C6 fastd<>+352(SB)
#define D_C7 fastd<>+384(SB)
#define D_C8 fastd<>+416(SB)
#define D_C9 fastd<>+448(SB)
#define D_C10 fastd<>+480(SB)
#define D_C11 fastd<>+512(SB)

// EXP4(A, N, P): P = e^A for the four float64 lanes of A (A and N are clobbered).
// A is clamped below at −700; t = A·log2 e + 1.5·2⁵² (one rounding, so the low bits of t hold
// n = round(A·log2 e)), r = A − n·ln2 (ln2 split hi/lo, fused), e^r by the degree-11 Taylor
// polynomial (|r| ≤ ln2/2, truncation error ≤ 6.3e−15 relative) and 2^n built in the exponent
// bits from the low bits of t.
#define EXP4(A, N, P) \
	VMAXPD D_MIN, A, A \
	VMOVUPD D_LOG2E, N \
	VFMADD213PD D_MAGIC, A, N \
	VSUBPD D_MAGIC, N, P \
	VFNMADD231PD D_LN2HI, P, A \
	VFNMADD231PD D_LN2LO, P, A \
	VMOVUPD D_C11, P \
	VFMADD213PD D_C10, A, P \
	VFMADD213PD D_C9, A, P \
	VFMADD213PD D_C8, A, P \
	VFMADD213PD D_C7, A, P \
	VFMADD213PD D_C6, A, P \
	VFMADD213PD D_C5, A, P \
	VFMADD213PD D_C4, A, P \
	VFMADD213PD D_C3, A, P \
	VFMADD213PD D_C2, A, P \
	VFMADD213PD D_ONE, A, P \
	VFMADD213PD D_ONE, A, P \
	VPADDQ D_BIAS, N, N \
	VPSLLQ $52, N, N \
	VMULPD N, P, P

// HALF64(OFF, SX, SY, T): four lanes at byte offset OFF of x (SI) and y (DI); mx in Y14, my in Y15.
#define HALF64(OFF, SX, SY, T) \
	VMOVUPD OFF(SI), Y0 \
	VMOVUPD OFF(DI), Y1 \
	VSUBPD Y14, Y0, Y2 \
	VSUBPD Y15, Y1, Y5 \
	VSUBPD Y5, Y2, Y0 \
	EXP4(Y2, Y3, Y4) \
	EXP4(Y5, Y6, Y7) \
	VADDPD Y4, SX, SX \
	VADDPD Y7, SY, SY \
	VFMADD231PD Y0, Y4, T

// func fastSums64AVX2(x, y *float64, n int, mx, my float64, acc *[12]float64)
// n > 0 is a multiple of 8. Writes acc[0:4] (lanes of Σ e^(x−mx)), acc[4:8] (Σ e^(y−my)) and
// acc[8:12] (Σ e^(x−mx)·((x−mx)−(y−my))).
TEXT ·fastSums64AVX2(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	VBROADCASTSD mx+24(FP), Y14
	VBROADCASTSD my+32(FP), Y15
	MOVQ acc+40(FP), DX
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11
	VXORPD Y12, Y12, Y12
	VXORPD Y13, Y13, Y13

sums64loop:
	HALF64(0, Y8, Y9, Y10)
	HALF64(32, Y11, Y12, Y13)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $8, CX
	JNZ  sums64loop

	VADDPD Y11, Y8, Y8
	VADDPD Y12, Y9, Y9
	VADDPD Y13, Y10, Y10
	VMOVUPD Y8, 0(DX)
	VMOVUPD Y9, 32(DX)
	VMOVUPD Y10, 64(DX)
	VZEROUPPER
	RET

// HMAX64(Y, X, XT): horizontal max of the four lanes of Y into the low lane of X.
#define HMAX64(Y, X, XT) \
	VEXTRACTF128 $1, Y, XT \
	VMAXPD XT, X, X \
	VPERMILPD $1, X, XT \
	VMAXPD XT, X, X

// func fastMax64AVX2(x, y *float64, n int, out *[2]float64)
// n > 0 is a multiple of 8. out[0] = max x[0:n], out[1] = max y[0:n].
TEXT ·fastMax64AVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	MOVQ out+24(FP), DX
	VMOVUPD (SI), Y0
	VMOVUPD Y0, Y1
	VMOVUPD (DI), Y2
	VMOVUPD Y2, Y3

max64loop:
	VMAXPD (SI), Y0, Y0
	VMAXPD 32(SI), Y1, Y1
	VMAXPD (DI), Y2, Y2
	VMAXPD 32(DI), Y3, Y3
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $8, CX
	JNZ  max64loop

	VMAXPD Y1, Y0, Y0
	VMAXPD Y3, Y2, Y2
	HMAX64(Y0, X0, X4)
	HMAX64(Y2, X2, X5)
	VMOVSD X0, 0(DX)
	VMOVSD X2, 8(DX)
	VZEROUPPER
	RET

// ---- AVX-512 float32 kernels ----

// AVX-512 versions of fastSumsAVX2 and fastMax2AVX2 (kernels_amd64.s): the same exp (the same
// constants and polynomial) and the same sums, on 16 float32 lanes per register and 32 elements
// per iteration. The constants live in registers: Z16 log2 e, Z17 ln2 hi, Z18 ln2 lo, Z19 the
// clamp −87, Z20 1, Z21–Z25 and Z27 the Taylor coefficients 1/2 … 1/7, Z26 the exponent bias.

// EXP16(A, N, P): P = e^A for the sixteen float32 lanes of A (A and N are clobbered).
#define EXP16(A, N, P) \
	VMAXPS Z19, A, A \
	VMULPS Z16, A, N \
	VCVTPS2DQ N, N \
	VCVTDQ2PS N, P \
	VFNMADD231PS Z17, P, A \
	VFNMADD231PS Z18, P, A \
	VMOVAPS Z27, P \
	VFMADD213PS Z25, A, P \
	VFMADD213PS Z24, A, P \
	VFMADD213PS Z23, A, P \
	VFMADD213PS Z22, A, P \
	VFMADD213PS Z21, A, P \
	VFMADD213PS Z20, A, P \
	VFMADD213PS Z20, A, P \
	VPADDD Z26, N, N \
	VPSLLD $23, N, N \
	VMULPS N, P, P

// HALF16(OFF, SX, SY, T): sixteen lanes at byte offset OFF of x (SI) and y (DI); mx in Z14,
// my in Z15 (see HALF in kernels_amd64.s).
#define HALF16(OFF, SX, SY, T) \
	VMOVUPS OFF(SI), Z0 \
	VMOVUPS OFF(DI), Z1 \
	VSUBPS Z14, Z0, Z2 \
	VSUBPS Z15, Z1, Z5 \
	VSUBPS Z5, Z2, Z0 \
	EXP16(Z2, Z3, Z4) \
	EXP16(Z5, Z6, Z7) \
	VADDPS Z4, SX, SX \
	VADDPS Z7, SY, SY \
	VFMADD231PS Z0, Z4, T

// FLUSH16(F, YF, ACC): adds the sixteen float32 lanes of F into the eight float64 lanes of ACC.
#define FLUSH16(F, YF, ACC) \
	VCVTPS2PD YF, Z0 \
	VEXTRACTF64X4 $1, F, Y1 \
	VCVTPS2PD Y1, Z1 \
	VADDPD Z1, Z0, Z0 \
	VADDPD Z0, ACC, ACC

// func fastSumsAVX512(x, y *float32, n int, mx, my float32, acc *[24]float64)
// n > 0 is a multiple of 32. Writes acc[0:8] (lanes of Σ e^(x−mx)), acc[8:16] (Σ e^(y−my)) and
// acc[16:24] (Σ e^(x−mx)·((x−mx)−(y−my))). The float32 lane sums cover 256 elements (8 terms
// per lane, as in the AVX2 kernel) before they are added into float64.
TEXT ·fastSumsAVX512(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	VBROADCASTSS mx+24(FP), Z14
	VBROADCASTSS my+28(FP), Z15
	MOVQ acc+32(FP), DX
	LEAQ fastc<>(SB), AX
	VBROADCASTSS 0(AX), Z16
	VBROADCASTSS 32(AX), Z17
	VBROADCASTSS 64(AX), Z18
	VBROADCASTSS 96(AX), Z19
	VBROADCASTSS 128(AX), Z20
	VBROADCASTSS 160(AX), Z21
	VBROADCASTSS 192(AX), Z22
	VBROADCASTSS 224(AX), Z23
	VBROADCASTSS 256(AX), Z24
	VBROADCASTSS 288(AX), Z25
	VPBROADCASTD 320(AX), Z26
	VBROADCASTSS 352(AX), Z27
	VXORPD Z28, Z28, Z28
	VXORPD Z29, Z29, Z29
	VXORPD Z30, Z30, Z30

sums512block:
	VXORPS Z8, Z8, Z8
	VXORPS Z9, Z9, Z9
	VXORPS Z10, Z10, Z10
	VXORPS Z11, Z11, Z11
	VXORPS Z12, Z12, Z12
	VXORPS Z13, Z13, Z13
	MOVQ CX, BX
	SHRQ $5, BX
	CMPQ BX, $8
	JLE  sums512loop
	MOVQ $8, BX

sums512loop:
	HALF16(0, Z8, Z9, Z10)
	HALF16(64, Z11, Z12, Z13)
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	DECQ BX
	JNZ  sums512loop

	VADDPS Z11, Z8, Z8
	VADDPS Z12, Z9, Z9
	VADDPS Z13, Z10, Z10
	FLUSH16(Z8, Y8, Z28)
	FLUSH16(Z9, Y9, Z29)
	FLUSH16(Z10, Y10, Z30)
	TESTQ CX, CX
	JNZ   sums512block
	VMOVUPD Z28, 0(DX)
	VMOVUPD Z29, 64(DX)
	VMOVUPD Z30, 128(DX)
	VZEROUPPER
	RET

// func fastMax2AVX512(x, y *float32, n int, out *[2]float32)
// n > 0 is a multiple of 32. out[0] = max x[0:n], out[1] = max y[0:n].
TEXT ·fastMax2AVX512(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	MOVQ out+24(FP), DX
	VMOVUPS (SI), Z0
	VMOVAPS Z0, Z1
	VMOVUPS (DI), Z2
	VMOVAPS Z2, Z3

max512loop:
	VMAXPS (SI), Z0, Z0
	VMAXPS 64(SI), Z1, Z1
	VMAXPS (DI), Z2, Z2
	VMAXPS 64(DI), Z3, Z3
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JNZ  max512loop

	VMAXPS Z1, Z0, Z0
	VMAXPS Z3, Z2, Z2
	VEXTRACTF64X4 $1, Z0, Y4
	VMAXPS Y4, Y0, Y0
	VEXTRACTF64X4 $1, Z2, Y5
	VMAXPS Y5, Y2, Y2
	VEXTRACTF128 $1, Y0, X4
	VMAXPS X4, X0, X0
	VPERMILPS $0x4E, X0, X4
	VMAXPS X4, X0, X0
	VPERMILPS $0xB1, X0, X4
	VMAXPS X4, X0, X0
	VEXTRACTF128 $1, Y2, X5
	VMAXPS X5, X2, X2
	VPERMILPS $0x4E, X2, X5
	VMAXPS X5, X2, X2
	VPERMILPS $0xB1, X2, X5
	VMAXPS X5, X2, X2
	VMOVSS X0, 0(DX)
	VMOVSS X2, 4(DX)
	VZEROUPPER
	RET

// HALF16M is HALF16 that also takes the running maxima of x (Z28) and y (Z29).
#define HALF16M(OFF, SX, SY, T) \
	VMOVUPS OFF(SI), Z0 \
	VMOVUPS OFF(DI), Z1 \
	VMAXPS Z0, Z28, Z28 \
	VMAXPS Z1, Z29, Z29 \
	VSUBPS Z14, Z0, Z2 \
	VSUBPS Z15, Z1, Z5 \
	VSUBPS Z5, Z2, Z0 \
	EXP16(Z2, Z3, Z4) \
	EXP16(Z5, Z6, Z7) \
	VADDPS Z4, SX, SX \
	VADDPS Z7, SY, SY \
	VFMADD231PS Z0, Z4, T

// FLUSH16M(F, YF, OFF): adds the sixteen float32 lanes of F into the eight float64 at OFF(DX).
#define FLUSH16M(F, YF, OFF) \
	VCVTPS2PD YF, Z0 \
	VEXTRACTF64X4 $1, F, Y1 \
	VCVTPS2PD Y1, Z1 \
	VADDPD Z1, Z0, Z0 \
	VADDPD OFF(DX), Z0, Z0 \
	VMOVUPD Z0, OFF(DX)

// func fastSumsMaxAVX512(x, y *float32, n int, mx, my float32, acc *[24]float64, out *[2]float32)
// fastSumsAVX512 relative to the given (mx, my), which need not be the maxima, in the same pass
// that finds the maxima of x[0:n] and y[0:n] (out[0], out[1]): each element is read from memory
// once. n > 0 is a multiple of 32.
TEXT ·fastSumsMaxAVX512(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	VBROADCASTSS mx+24(FP), Z14
	VBROADCASTSS my+28(FP), Z15
	MOVQ acc+32(FP), DX
	LEAQ fastc<>(SB), AX
	VBROADCASTSS 0(AX), Z16
	VBROADCASTSS 32(AX), Z17
	VBROADCASTSS 64(AX), Z18
	VBROADCASTSS 96(AX), Z19
	VBROADCASTSS 128(AX), Z20
	VBROADCASTSS 160(AX), Z21
	VBROADCASTSS 192(AX), Z22
	VBROADCASTSS 224(AX), Z23
	VBROADCASTSS 256(AX), Z24
	VBROADCASTSS 288(AX), Z25
	VPBROADCASTD 320(AX), Z26
	VBROADCASTSS 352(AX), Z27
	VXORPD Z0, Z0, Z0
	VMOVUPD Z0, 0(DX)
	VMOVUPD Z0, 64(DX)
	VMOVUPD Z0, 128(DX)
	VMOVUPS (SI), Z28
	VMOVUPS (DI), Z29

summax512block:
	VXORPS Z8, Z8, Z8
	VXORPS Z9, Z9, Z9
	VXORPS Z10, Z10, Z10
	VXORPS Z11, Z11, Z11
	VXORPS Z12, Z12, Z12
	VXORPS Z13, Z13, Z13
	MOVQ CX, BX
	SHRQ $5, BX
	CMPQ BX, $8
	JLE  summax512loop
	MOVQ $8, BX

summax512loop:
	HALF16M(0, Z8, Z9, Z10)
	HALF16M(64, Z11, Z12, Z13)
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	DECQ BX
	JNZ  summax512loop

	VADDPS Z11, Z8, Z8
	VADDPS Z12, Z9, Z9
	VADDPS Z13, Z10, Z10
	FLUSH16M(Z8, Y8, 0)
	FLUSH16M(Z9, Y9, 64)
	FLUSH16M(Z10, Y10, 128)
	TESTQ CX, CX
	JNZ   summax512block

	MOVQ out+40(FP), DX
	VEXTRACTF64X4 $1, Z28, Y4
	VMAXPS Y4, Y28, Y0
	VEXTRACTF64X4 $1, Z29, Y5
	VMAXPS Y5, Y29, Y2
	VEXTRACTF128 $1, Y0, X4
	VMAXPS X4, X0, X0
	VPERMILPS $0x4E, X0, X4
	VMAXPS X4, X0, X0
	VPERMILPS $0xB1, X0, X4
	VMAXPS X4, X0, X0
	VEXTRACTF128 $1, Y2, X5
	VMAXPS X5, X2, X2
	VPERMILPS $0x4E, X2, X5
	VMAXPS X5, X2, X2
	VPERMILPS $0xB1, X2, X5
	VMAXPS X5, X2, X2
	VMOVSS X0, 0(DX)
	VMOVSS X2, 4(DX)
	VZEROUPPER
	RET
