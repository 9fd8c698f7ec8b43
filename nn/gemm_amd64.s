//go:build amd64

#include "textflag.h"

// AVX2 tiles of float32 matrix products that round exactly as gonum's serial kernels do (see
// gemm.go). No FMA: every product is rounded before it is added, as MULPS then ADDPS do.

// func axpyTile4x16(k int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int)
//
// For r = 0..3 and j = 0..15, in the order l = 0, 1, …, k−1:
//	c[r·ldc + j] += a[r·ars + l·acs] · b[l·ldb + j]
// (gonum's sgemmSerialNotNot / sgemmSerialTransNot with alpha = 1 and no zero in a).
TEXT ·axpyTile4x16(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ ars+16(FP), R8
	SHLQ $2, R8
	MOVQ acs+24(FP), R11
	SHLQ $2, R11
	MOVQ b+32(FP), DI
	MOVQ ldb+40(FP), R12
	SHLQ $2, R12
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R13
	SHLQ $2, R13
	LEAQ (R8)(R8*2), R9

	MOVQ    DX, R14
	VMOVUPS (R14), Y0
	VMOVUPS 32(R14), Y1
	ADDQ    R13, R14
	VMOVUPS (R14), Y2
	VMOVUPS 32(R14), Y3
	ADDQ    R13, R14
	VMOVUPS (R14), Y4
	VMOVUPS 32(R14), Y5
	ADDQ    R13, R14
	VMOVUPS (R14), Y6
	VMOVUPS 32(R14), Y7

	TESTQ CX, CX
	JE    axpy_store

axpy_loop:
	VMOVUPS      (DI), Y8
	VMOVUPS      32(DI), Y9
	VBROADCASTSS (SI), Y10
	VMULPS       Y8, Y10, Y11
	VADDPS       Y11, Y0, Y0
	VMULPS       Y9, Y10, Y12
	VADDPS       Y12, Y1, Y1
	VBROADCASTSS (SI)(R8*1), Y10
	VMULPS       Y8, Y10, Y11
	VADDPS       Y11, Y2, Y2
	VMULPS       Y9, Y10, Y12
	VADDPS       Y12, Y3, Y3
	VBROADCASTSS (SI)(R8*2), Y10
	VMULPS       Y8, Y10, Y11
	VADDPS       Y11, Y4, Y4
	VMULPS       Y9, Y10, Y12
	VADDPS       Y12, Y5, Y5
	VBROADCASTSS (SI)(R9*1), Y10
	VMULPS       Y8, Y10, Y11
	VADDPS       Y11, Y6, Y6
	VMULPS       Y9, Y10, Y12
	VADDPS       Y12, Y7, Y7
	ADDQ         R11, SI
	ADDQ         R12, DI
	DECQ         CX
	JNZ          axpy_loop

axpy_store:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	ADDQ    R13, DX
	VMOVUPS Y2, (DX)
	VMOVUPS Y3, 32(DX)
	ADDQ    R13, DX
	VMOVUPS Y4, (DX)
	VMOVUPS Y5, 32(DX)
	ADDQ    R13, DX
	VMOVUPS Y6, (DX)
	VMOVUPS Y7, 32(DX)
	VZEROUPPER
	RET

// func axpyTile4x8(k int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int)
//
// axpyTile4x16 for 8 columns: for r = 0..3 and j = 0..7, in the order l = 0, 1, …, k−1:
//	c[r·ldc + j] += a[r·ars + l·acs] · b[l·ldb + j]
TEXT ·axpyTile4x8(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ ars+16(FP), R8
	SHLQ $2, R8
	MOVQ acs+24(FP), R11
	SHLQ $2, R11
	MOVQ b+32(FP), DI
	MOVQ ldb+40(FP), R12
	SHLQ $2, R12
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R13
	SHLQ $2, R13
	LEAQ (R8)(R8*2), R9

	MOVQ    DX, R14
	VMOVUPS (R14), Y0
	ADDQ    R13, R14
	VMOVUPS (R14), Y2
	ADDQ    R13, R14
	VMOVUPS (R14), Y4
	ADDQ    R13, R14
	VMOVUPS (R14), Y6

	TESTQ CX, CX
	JE    axpy8_store

axpy8_loop:
	VMOVUPS      (DI), Y8
	VBROADCASTSS (SI), Y10
	VMULPS       Y8, Y10, Y11
	VADDPS       Y11, Y0, Y0
	VBROADCASTSS (SI)(R8*1), Y10
	VMULPS       Y8, Y10, Y11
	VADDPS       Y11, Y2, Y2
	VBROADCASTSS (SI)(R8*2), Y10
	VMULPS       Y8, Y10, Y11
	VADDPS       Y11, Y4, Y4
	VBROADCASTSS (SI)(R9*1), Y10
	VMULPS       Y8, Y10, Y11
	VADDPS       Y11, Y6, Y6
	ADDQ         R11, SI
	ADDQ         R12, DI
	DECQ         CX
	JNZ          axpy8_loop

axpy8_store:
	VMOVUPS Y0, (DX)
	ADDQ    R13, DX
	VMOVUPS Y2, (DX)
	ADDQ    R13, DX
	VMOVUPS Y4, (DX)
	ADDQ    R13, DX
	VMOVUPS Y6, (DX)
	VZEROUPPER
	RET

// func axpy8(n8 int, alpha float32, x, y *float32)
//
// y[j] += alpha · x[j] for j < n8 (a multiple of 8), the product rounded before the sum: gonum's
// AxpyUnitary arithmetic, 8 lanes at a time.
TEXT ·axpy8(SB), NOSPLIT, $0-32
	MOVQ         n8+0(FP), CX
	VBROADCASTSS alpha+8(FP), Y0
	MOVQ         x+16(FP), SI
	MOVQ         y+24(FP), DI
	SHRQ         $3, CX
	JZ           axpy8_done

axpy8_vloop:
	VMULPS  (SI), Y0, Y1
	VADDPS  (DI), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     axpy8_vloop

axpy8_done:
	VZEROUPPER
	RET

// func dotTile1x4(k16 int, x, y *float32, ldy int, out *[4]float32)
//
// out[t] = x[0:16·k16] · y[t·ldy : t·ldy+16·k16] for t = 0..3, summed in the order of gonum's
// DotUnitary for a 16-byte aligned y and a length that is a multiple of 16: two 4-lane sums, one
// over the 1st and 3rd quarter of every 16 elements, one over the 2nd and 4th (here the low and
// high half of one 8-lane sum), added lane by lane, then the four lanes as (s0+s1) + (s2+s3).
TEXT ·dotTile1x4(SB), NOSPLIT, $0-40
	MOVQ k16+0(FP), CX
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DI
	MOVQ ldy+24(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9
	MOVQ out+32(FP), DX

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

dot_loop:
	VMOVUPS (SI), Y4
	VMULPS  (DI), Y4, Y5
	VADDPS  Y5, Y0, Y0
	VMULPS  (DI)(R8*1), Y4, Y6
	VADDPS  Y6, Y1, Y1
	VMULPS  (DI)(R8*2), Y4, Y7
	VADDPS  Y7, Y2, Y2
	VMULPS  (DI)(R9*1), Y4, Y8
	VADDPS  Y8, Y3, Y3
	VMOVUPS 32(SI), Y4
	VMULPS  32(DI), Y4, Y5
	VADDPS  Y5, Y0, Y0
	VMULPS  32(DI)(R8*1), Y4, Y6
	VADDPS  Y6, Y1, Y1
	VMULPS  32(DI)(R8*2), Y4, Y7
	VADDPS  Y7, Y2, Y2
	VMULPS  32(DI)(R9*1), Y4, Y8
	VADDPS  Y8, Y3, Y3
	ADDQ    $64, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     dot_loop

	VEXTRACTF128 $1, Y0, X4
	VADDPS       X4, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VMOVSS       X0, (DX)
	VEXTRACTF128 $1, Y1, X4
	VADDPS       X4, X1, X1
	VHADDPS      X1, X1, X1
	VHADDPS      X1, X1, X1
	VMOVSS       X1, 4(DX)
	VEXTRACTF128 $1, Y2, X4
	VADDPS       X4, X2, X2
	VHADDPS      X2, X2, X2
	VHADDPS      X2, X2, X2
	VMOVSS       X2, 8(DX)
	VEXTRACTF128 $1, Y3, X4
	VADDPS       X4, X3, X3
	VHADDPS      X3, X3, X3
	VHADDPS      X3, X3, X3
	VMOVSS       X3, 12(DX)
	VZEROUPPER
	RET

// func anyZero8(p *float32, n int) bool   (n > 0 a multiple of 8)
//
// Whether any of p[0:n] is ±0 (NaN is not).
TEXT ·anyZero8(SB), NOSPLIT, $0-17
	MOVQ   p+0(FP), SI
	MOVQ   n+8(FP), CX
	SHRQ   $3, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

zero_loop:
	VCMPPS $0x00, (SI), Y0, Y2
	VORPS  Y2, Y1, Y1
	ADDQ   $32, SI
	DECQ   CX
	JNZ    zero_loop

	VMOVMSKPS Y1, AX
	TESTL     AX, AX
	SETNE     ret+16(FP)
	VZEROUPPER
	RET

// func sparseAxpy64(c *float32, vals *float32, offs *int, nnz int, b *float32)
//
// c[j] += vals[q] · b[offs[q] + j] for j < 64, for q = 0, 1, …, nnz−1 in that order, each product
// rounded before the sum: gonum's axpy arithmetic over one sparse row of A (its nonzeros vals at
// B-row offsets offs), with the 64 sums of C in eight registers from the first product to the
// last instead of a load and a store of C per nonzero.
TEXT ·sparseAxpy64(SB), NOSPLIT, $0-40
	MOVQ    c+0(FP), DI
	MOVQ    vals+8(FP), SI
	MOVQ    offs+16(FP), DX
	MOVQ    nnz+24(FP), CX
	MOVQ    b+32(FP), R8
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	VMOVUPS 128(DI), Y4
	VMOVUPS 160(DI), Y5
	VMOVUPS 192(DI), Y6
	VMOVUPS 224(DI), Y7
	TESTQ   CX, CX
	JZ      sparse64_store

sparse64_loop:
	VBROADCASTSS (SI), Y8
	MOVQ         (DX), AX
	LEAQ         (R8)(AX*4), R9
	VMULPS       (R9), Y8, Y9
	VADDPS       Y9, Y0, Y0
	VMULPS       32(R9), Y8, Y10
	VADDPS       Y10, Y1, Y1
	VMULPS       64(R9), Y8, Y11
	VADDPS       Y11, Y2, Y2
	VMULPS       96(R9), Y8, Y12
	VADDPS       Y12, Y3, Y3
	VMULPS       128(R9), Y8, Y13
	VADDPS       Y13, Y4, Y4
	VMULPS       160(R9), Y8, Y14
	VADDPS       Y14, Y5, Y5
	VMULPS       192(R9), Y8, Y15
	VADDPS       Y15, Y6, Y6
	VMULPS       224(R9), Y8, Y9
	VADDPS       Y9, Y7, Y7
	ADDQ         $4, SI
	ADDQ         $8, DX
	DECQ         CX
	JNZ          sparse64_loop

sparse64_store:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	VMOVUPS Y6, 192(DI)
	VMOVUPS Y7, 224(DI)
	VZEROUPPER
	RET

// func sparseAxpy8(c *float32, vals *float32, offs *int, nnz int, b *float32)
//
// sparseAxpy64 for 8 columns.
TEXT ·sparseAxpy8(SB), NOSPLIT, $0-40
	MOVQ    c+0(FP), DI
	MOVQ    vals+8(FP), SI
	MOVQ    offs+16(FP), DX
	MOVQ    nnz+24(FP), CX
	MOVQ    b+32(FP), R8
	VMOVUPS (DI), Y0
	TESTQ   CX, CX
	JZ      sparse8_store

sparse8_loop:
	VBROADCASTSS (SI), Y8
	MOVQ         (DX), AX
	VMULPS       (R8)(AX*4), Y8, Y9
	VADDPS       Y9, Y0, Y0
	ADDQ         $4, SI
	ADDQ         $8, DX
	DECQ         CX
	JNZ          sparse8_loop

sparse8_store:
	VMOVUPS Y0, (DI)
	VZEROUPPER
	RET

// func nonzeros(dst *int32, a *float32, n int) (count int)
//
// Writes to dst, in increasing order, the indices i < n of the elements of a that gonum's axpy
// loops do not skip (a[i] ≠ 0, NaN included: an unordered compare), and returns how many there
// are; 8 elements per compare, so a mostly zero row (one-hot observations) costs little more than
// one read.
TEXT ·nonzeros(SB), NOSPLIT, $0-32
	MOVQ   dst+0(FP), DI
	MOVQ   a+8(FP), SI
	MOVQ   n+16(FP), CX
	XORQ   R11, R11
	XORQ   R12, R12
	VXORPS Y15, Y15, Y15

nz_loop8:
	MOVQ      CX, AX
	SUBQ      R11, AX
	CMPQ      AX, $8
	JLT       nz_tail
	VCMPPS    $4, (SI)(R11*4), Y15, Y14 // a[i] ≠ 0 or NaN
	VMOVMSKPS Y14, DX
	TESTL     DX, DX
	JZ        nz_next8

nz_bits:
	BSFL  DX, AX
	ADDL  R11, AX
	MOVL  AX, (DI)(R12*4)
	INCQ  R12
	LEAL  -1(DX), AX
	ANDL  AX, DX
	JNZ   nz_bits

nz_next8:
	ADDQ $8, R11
	JMP  nz_loop8

nz_tail:
	CMPQ     R11, CX
	JGE      nz_done
	VMOVSS   (SI)(R11*4), X8
	VUCOMISS X15, X8
	JNE      nz_hit
	JPS      nz_hit
	JMP      nz_tail_next

nz_hit:
	MOVL R11, (DI)(R12*4)
	INCQ R12

nz_tail_next:
	INCQ R11
	JMP  nz_tail

nz_done:
	MOVQ R12, count+24(FP)
	VZEROUPPER
	RET

// func dotRows4(x *float32, lda int, y *float32, k, t int, out *[4]float32)
//
// out[r] = DotUnitary(x[r·lda : r·lda+k], y[:k]) for r = 0..3, with the order of additions of
// gonum's DotUnitary (internal/asm/f32/dotunitary_amd64.s) for a y whose first t elements
// (t = 0..3) come before a 16-byte boundary: those t products added one by one to lane 0 of a
// 4-lane sum S, then blocks of 16 into S and a second sum P (quarters 1 and 3 into S, 2 and 4
// into P), S += P if there was a block, groups of 4 into S, the last k mod 4 products into
// lane 0, and finally (S0 + S1) + (S2 + S3). Two rows share a register (S of rows 0 and 1 in
// Y0's halves, of rows 2 and 3 in Y1's; P in Y2, Y3); a single product goes to lanes 0 and 4
// only (the others are masked to +0, which leaves a sum unchanged: a sum that starts at +0 is
// never −0).
#define DOT_GROUP4(S01, S23) \
	VMOVUPS        (SI)(AX*4), X4 \
	VINSERTF128    $1, (R10)(AX*4), Y4, Y4 \
	VMOVUPS        (R9)(AX*4), X5 \
	VINSERTF128    $1, (R11)(AX*4), Y5, Y5 \
	VBROADCASTF128 (DI)(AX*4), Y6 \
	VMULPS         Y6, Y4, Y4 \
	VMULPS         Y6, Y5, Y5 \
	VADDPS         Y4, S01, S01 \
	VADDPS         Y5, S23, S23

#define DOT_SCALAR \
	VMOVSS       (SI)(AX*4), X4 \
	VMOVSS       (R10)(AX*4), X7 \
	VINSERTF128  $1, X7, Y4, Y4 \
	VMOVSS       (R9)(AX*4), X5 \
	VMOVSS       (R11)(AX*4), X7 \
	VINSERTF128  $1, X7, Y5, Y5 \
	VBROADCASTSS (DI)(AX*4), Y6 \
	VMULPS       Y6, Y4, Y4 \
	VMULPS       Y6, Y5, Y5 \
	VANDPS       Y15, Y4, Y4 \
	VANDPS       Y15, Y5, Y5 \
	VADDPS       Y4, Y0, Y0 \
	VADDPS       Y5, Y1, Y1

TEXT ·dotRows4(SB), NOSPLIT, $0-48
	MOVQ    x+0(FP), SI
	MOVQ    lda+8(FP), R8
	SHLQ    $2, R8
	LEAQ    (SI)(R8*1), R10
	LEAQ    (R10)(R8*1), R9
	LEAQ    (R9)(R8*1), R11
	MOVQ    y+16(FP), DI
	MOVQ    k+24(FP), CX
	MOVQ    t+32(FP), BX
	MOVQ    out+40(FP), DX
	VXORPS  Y0, Y0, Y0
	VXORPS  Y1, Y1, Y1
	VXORPS  Y2, Y2, Y2
	VXORPS  Y3, Y3, Y3
	VMOVUPS ·lane0Mask(SB), Y15
	XORQ    AX, AX
	CMPQ    BX, CX
	CMOVQGT CX, BX            // the trim stops at the end of the vectors
	SUBQ    BX, CX
	TESTQ   BX, BX
	JZ      dot4_blocks

dot4_trim:
	DOT_SCALAR
	INCQ AX
	DECQ BX
	JNZ  dot4_trim

dot4_blocks:
	MOVQ  CX, BX
	SHRQ  $4, BX
	ANDQ  $15, CX
	TESTQ BX, BX
	JZ    dot4_tail4

dot4_block:
	DOT_GROUP4(Y0, Y1)
	ADDQ $4, AX
	DOT_GROUP4(Y2, Y3)
	ADDQ $4, AX
	DOT_GROUP4(Y0, Y1)
	ADDQ $4, AX
	DOT_GROUP4(Y2, Y3)
	ADDQ $4, AX
	DECQ BX
	JNZ  dot4_block
	VADDPS Y2, Y0, Y0
	VADDPS Y3, Y1, Y1

dot4_tail4:
	MOVQ CX, BX
	SHRQ $2, BX
	JZ   dot4_tail1

dot4_group:
	DOT_GROUP4(Y0, Y1)
	ADDQ $4, AX
	DECQ BX
	JNZ  dot4_group

dot4_tail1:
	ANDQ $3, CX
	JZ   dot4_sum

dot4_scalar:
	DOT_SCALAR
	INCQ AX
	DECQ CX
	JNZ  dot4_scalar

dot4_sum:
	VHADDPS      Y0, Y0, Y0
	VHADDPS      Y0, Y0, Y0
	VHADDPS      Y1, Y1, Y1
	VHADDPS      Y1, Y1, Y1
	VMOVSS       X0, (DX)
	VEXTRACTF128 $1, Y0, X4
	VMOVSS       X4, 4(DX)
	VMOVSS       X1, 8(DX)
	VEXTRACTF128 $1, Y1, X5
	VMOVSS       X5, 12(DX)
	VZEROUPPER
	RET
