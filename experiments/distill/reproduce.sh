#!/bin/sh
# Reproduces every run behind docs/distillation.md. Run from the repository root:
#
#   sh experiments/distill/reproduce.sh [OUT]      # OUT defaults to runs/distill-docs
#
# Each run writes OUT/<name>-<seed>/summary.json (teacher_acc, distilled_acc, labels_acc,
# teacher_transfer_entropy, the omitted_class_* numbers, ...) and its stdout to <name>-<seed>.txt.
# Runs that reuse a seed's teacher load the one trained by the default run of that seed; a
# retrained teacher would be bit-identical (same seed), this only saves time.
set -eu
out=${1:-runs/distill-docs}
mkdir -p "$out"
go build -o "$out/klppo" ./cmd/klppo
k="$out/klppo"

run() { # run NAME SEED FLAGS...
	name=$1 seed=$2
	shift 2
	"$k" distill --quiet --force --seed "$seed" --out "$out/$name-$seed" "$@" >"$out/$name-$seed.txt"
}

for s in 1 2 3; do
	teacher="$out/default-$s/teacher.klnn"
	# The negative case: the defaults, and what changes it.
	run default "$s"
	run default-T8 "$s" --teacher "$teacher" --temperature 8
	run default-s32 "$s" --teacher "$teacher" --student-hidden 32
	run default-s128 "$s" --teacher "$teacher" --student-hidden 128
	run default-s128-T8 "$s" --teacher "$teacher" --student-hidden 128 --temperature 8
	run train1000 "$s" --train-size 1000
	for ta in 1,0.5 2,0.5 4,0.5 2,0.9; do
		run default-T${ta%,*}-a${ta#*,} "$s" --teacher "$teacher" --temperature "${ta%,*}" --alpha "${ta#*,}"
	done
	# The helpful setting, its temperature sweep, and memorised against fresh transfer images.
	for T in 1 2 4 8 16; do
		run fresh500-T$T "$s" --teacher "$teacher" --transfer fresh --transfer-size 500 --student-hidden 128 --epochs 150 --temperature "$T"
	done
	for T in 4 8; do
		run train500-T$T "$s" --teacher "$teacher" --transfer train --transfer-size 500 --student-hidden 128 --epochs 150 --temperature "$T"
	done
	run fresh500-s16 "$s" --teacher "$teacher" --transfer fresh --transfer-size 500 --student-hidden 16 --epochs 150 --temperature 8
	# The size curve.
	"$k" distill --quiet --force --seed "$s" --transfer fresh --curve-sizes 100,250,500,1000,2000,5000 --student-hidden 128 \
		--temperature 8 --epochs 15 --out "$out/curve-$s" >"$out/curve-$s.txt"
	# The missing class.
	run omit3 "$s" --transfer fresh --student-hidden 128 --temperature 8 --omit-class 3
done
for c in 0 1 2 4 5 6 7 8 9; do
	run omit$c 1 --teacher "$out/default-1/teacher.klnn" --transfer fresh --student-hidden 128 --temperature 8 --omit-class "$c"
done
echo "wrote $out"
