#!/bin/sh
# Reproduces the tables of docs/training.md that chose and measure the default `klppo train`
# run: "How much the KL constrained the run" and "Pendulum-v1: choosing the defaults".
#
#   sh docs/repro-defaults.sh main       # the default run (seeds 1-3) and CleanRL's CartPole-v1 (seeds 1-3)
#   sh docs/repro-defaults.sh pendulum   # the Pendulum-v1 defaults on seeds 1-10
#   sh docs/repro-defaults.sh variants   # the Pendulum-v1 settings tried on the way (5 seeds each; an hour or more)
#
# Runs go to $OUT (default runs/repro-defaults), two at a time ($PARALLEL), niced; the tables are
# printed from each run's summary.json. Needs a klppo binary ($KLPPO, default: build one into
# $OUT) and jq. Runs are deterministic: the same build gives the same summary.json apart from
# wall_s and sps.
set -eu
OUT=${OUT:-runs/repro-defaults}
PARALLEL=${PARALLEL:-2}
mkdir -p "$OUT"
if [ -z "${KLPPO:-}" ]; then
	go build -o "$OUT/klppo" ./cmd/klppo
	KLPPO=$OUT/klppo
fi

# jobs NAME SEEDS FLAGS...: prints one line per seed, "NAME SEED FLAGS...", for xargs.
jobs() {
	name=$1 seeds=$2
	shift 2
	for s in $seeds; do echo "$name $s $*"; done
}

# runall: reads job lines and trains each into $OUT/NAME/sSEED (skipping finished runs).
runall() {
	xargs -P "$PARALLEL" -L 1 sh -c '
		name=$1 seed=$2; shift 2
		dir='"$OUT"'/$name/s$seed
		mkdir -p '"$OUT"'/$name
		[ -f "$dir/summary.json" ] && grep -q "\"stopped\": \"\"" "$dir/summary.json" && exit 0
		nice -n 10 '"$KLPPO"' train --quiet --force --seed "$seed" --out "$dir" "$@" > "$dir.log" 2>&1 || echo "failed: $dir (see $dir.log)" >&2
	' sh
}

# table NAME...: one markdown row per run.
table() {
	echo "| setting | seed | final return | first step ≥ threshold | kl_in_band_frac | beta_active_frac | beta_floor_frac | max KL / d_targ | wall s |"
	echo "|---|---|---|---|---|---|---|---|---|"
	for name in "$@"; do
		for f in $(ls "$OUT/$name"/s*/summary.json | sort -V); do
			jq -r --arg n "$name" '"| \($n) | \(.seed) | \(.final_return // "—" | if type == "number" then (. * 10 | round / 10) else . end) | \(.first_step_return_ge) | \(.kl_in_band_frac // "—" | if type == "number" then (. * 100 | round / 100) else . end) | \(.beta_active_frac // "—" | if type == "number" then (. * 100 | round / 100) else . end) | \(.beta_floor_frac // "—" | if type == "number" then (. * 100 | round / 100) else . end) | \(.kl_max_over_target // "—" | if type == "number" then (. * 10 | round / 10) else . end) | \(.wall_s | round) |"' "$f"
		done
	done
}

case ${1:-main} in
main)
	{
		jobs default "1 2 3"
		jobs cleanrl-cartpole "1 2 3" --env CartPole-v1 --preset cleanrl
	} | runall
	table default cleanrl-cartpole
	;;
pendulum)
	jobs pendulum "1 2 3 4 5 6 7 8 9 10" --env Pendulum-v1 | runall
	table pendulum
	;;
variants)
	S="3 5 6 7 9"
	P="--env Pendulum-v1"
	# The defaults before this choice, spelled out (γ 0.9, 4 × 1024 steps, 64 minibatches, lr annealed).
	OLD="$P --gamma 0.9 --num-steps 1024 --num-minibatches 64 --anneal-lr=true"
	{
		jobs old "1 2 3 4 5 6 7 8 9 10" $OLD
		jobs old-logstd-0.5 "$S" $OLD --init-log-std -0.5
		jobs old-logstd-1 "$S" $OLD --init-log-std -1
		jobs old-gamma-0.95 "$S" $OLD --gamma 0.95
		jobs old-gamma-0.98 "$S" $OLD --gamma 0.98
		jobs old-no-gradclip "$S" $OLD --max-grad-norm 0
		jobs old-512steps "$S" $OLD --num-steps 512 --num-minibatches 32
		jobs old-16minibatches "$S" $OLD --num-minibatches 16
		jobs old-no-anneal "$S" $OLD --anneal-lr=false
		jobs old-20epochs "$S" $OLD --update-epochs 20
		jobs g95-512steps "$S" $OLD --gamma 0.95 --num-steps 512 --num-minibatches 32
		jobs g95-512steps-lr3e-4 "$S" $OLD --gamma 0.95 --num-steps 512 --num-minibatches 32 --lr 3e-4
		jobs g95-512steps-dtarg0.02 "$S" $OLD --gamma 0.95 --num-steps 512 --num-minibatches 32 --penalty kl-adaptive:0.02
		jobs g95-256steps "$S" $OLD --gamma 0.95 --num-steps 256 --num-minibatches 16
		jobs g95-256steps-no-anneal "$S" $P --num-steps 256 --num-minibatches 16
	} | runall
	table old old-logstd-0.5 old-logstd-1 old-gamma-0.95 old-gamma-0.98 old-no-gradclip old-512steps old-16minibatches \
		old-no-anneal old-20epochs g95-512steps g95-512steps-lr3e-4 g95-512steps-dtarg0.02 g95-256steps g95-256steps-no-anneal
	;;
*)
	echo "usage: sh docs/repro-defaults.sh main|pendulum|variants" >&2
	exit 2
	;;
esac
