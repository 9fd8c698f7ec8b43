//go:build amd64 && !amd64.v3

#include "textflag.h"

// func adamStep32AVX2(p, grad *float32, m, v *float64, n int, c *[6]float64)   (n a multiple of 4)
//
// Adam.Step's loop for float32 parameters on 4 elements at a time, with c = {1−β₁, β₂, 1−β₂,
// stepSize, √(1−β₂ᵗ), ε}: the same float64 operations in the same order as the Go loop compiled
// without FMA (GOAMD64 v1 and v2), so the same bits.
TEXT ·adamStep32AVX2(SB), NOSPLIT, $0-48
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), DX
	SHRQ $2, CX
	JZ   adam_done
	VBROADCASTSD 0(DX), Y10  // 1 − β₁
	VBROADCASTSD 8(DX), Y11  // β₂
	VBROADCASTSD 16(DX), Y12 // 1 − β₂
	VBROADCASTSD 24(DX), Y13 // stepSize
	VBROADCASTSD 32(DX), Y14 // √(1 − β₂ᵗ)
	VBROADCASTSD 40(DX), Y15 // ε

adam_loop:
	VCVTPS2PD (SI), Y0   // g
	VMOVUPD   (R8), Y1   // m
	VSUBPD    Y1, Y0, Y2 // g − m
	VMULPD    Y2, Y10, Y2
	VADDPD    Y2, Y1, Y1 // m + (1−β₁)(g − m)
	VMOVUPD   Y1, (R8)
	VMOVUPD   (R9), Y3   // v
	VMULPD    Y3, Y11, Y3 // β₂·v
	VMULPD    Y0, Y12, Y4 // (1−β₂)·g
	VMULPD    Y0, Y4, Y4  // ·g
	VADDPD    Y4, Y3, Y3
	VMOVUPD   Y3, (R9)
	VSQRTPD   Y3, Y3
	VDIVPD    Y14, Y3, Y3 // √v / √(1−β₂ᵗ)
	VADDPD    Y15, Y3, Y3 // + ε
	VDIVPD    Y3, Y1, Y3  // m / (…)
	VMULPD    Y3, Y13, Y3 // stepSize·(…)
	VCVTPS2PD (DI), Y5
	VSUBPD    Y3, Y5, Y5
	VCVTPD2PSY Y5, X5
	VMOVUPS   X5, (DI)
	ADDQ      $16, DI
	ADDQ      $16, SI
	ADDQ      $32, R8
	ADDQ      $32, R9
	DECQ      CX
	JNZ       adam_loop

adam_done:
	VZEROUPPER
	RET
