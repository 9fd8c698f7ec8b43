#!/bin/sh
# Reproduces the tables of docs/training.md that chose and measure the default `klppo train`
# run: "How much the KL constrained the run" and "Pendulum-v1: choosing the defaults".
#
#   sh docs/repro-defaults.sh main       # the default run (seeds 1-3) and CleanRL's CartPole-v1 (seeds 1-3)
#   sh docs/repro-defaults.sh pendulum   # the Pendulum-v1 defaults on seeds 1-10
#   sh docs/repro-defaults.sh variants   # every Pendulum-v1 setting tried on the way (two to three hours)
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
	for s in $seeds; do
		# no trailing blank: xargs -L would join the next line to this one
		if [ $# -gt 0 ]; then echo "$name $s $*"; else echo "$name $s"; fi
	done
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

# first DIR: the first step at which the mean of the last 10 episodes reached the env's threshold
# (summary.json's first_step_return_ge), or for Pendulum-v1, which has none, −200; -1 if never.
first() {
	if [ "$(jq -r .env_id "$1/summary.json")" != Pendulum-v1 ]; then
		jq -r .first_step_return_ge "$1/summary.json"
		return
	fi
	awk -F, 'NR > 1 { r[NR % 10] = $2; n++; if (n >= 10) { s = 0; for (i in r) s += r[i]; if (s / 10 >= -200) { print $1; found = 1; exit } } }
		END { if (!found) print -1 }' "$1/episodes.csv"
}

# table NAME...: one markdown row per run.
table() {
	echo "| setting | seed | final return | first step, 10-episode mean ≥ threshold (Pendulum: −200) | kl_in_band_frac | beta_active_frac | beta_floor_frac | max KL / d_targ | wall s |"
	echo "|---|---|---|---|---|---|---|---|---|"
	for name in "$@"; do
		for f in $(ls "$OUT/$name"/s*/summary.json | sort -V); do
			jq -r --arg n "$name" --arg first "$(first "$(dirname "$f")")" '"| \($n) | \(.seed) | \(.final_return // "—" | if type == "number" then (. * 10 | round / 10) else . end) | \($first) | \(.kl_in_band_frac // "—" | if type == "number" then (. * 100 | round / 100) else . end) | \(.beta_active_frac // "—" | if type == "number" then (. * 100 | round / 100) else . end) | \(.beta_floor_frac // "—" | if type == "number" then (. * 100 | round / 100) else . end) | \(.kl_max_over_target // "—" | if type == "number" then (. * 10 | round / 10) else . end) | \(.wall_s | round) |"' "$f"
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
	# Every Pendulum-v1 setting docs/training.md compares, on the seeds it lists (about 200 runs:
	# two to three hours at two runs at a time on the 2-core machine).
	H="3 5 6 7 9"
	P="--env Pendulum-v1"
	# The defaults before this choice, spelled out: γ 0.9, 4 × 1024 steps, 64 minibatches, lr annealed.
	OLD="$P --gamma 0.9 --num-steps 1024 --num-minibatches 64 --anneal-lr=true"
	{
		jobs old "1 2 3 4 5 6 7 8 9 10" $OLD
		jobs old-logstd-0.5 "1 2 3 4 5 6 7 8 9 10" $OLD --init-log-std -0.5
		jobs old-logstd-1 "1 2 3 4 5 6 7 8 9 10" $OLD --init-log-std -1
		jobs old-gamma-0.95 "$H" $OLD --gamma 0.95
		jobs old-gamma-0.98 "$H" $OLD --gamma 0.98
		jobs old-no-gradclip "$H" $OLD --max-grad-norm 0
		jobs old-4x512 "$H" $OLD --num-steps 512 --num-minibatches 32
		jobs old-16minibatches "$H" $OLD --num-minibatches 16
		jobs old-constant-lr "$H" $OLD --anneal-lr=false
		jobs old-20epochs "$H" $OLD --update-epochs 20
		jobs g95-4x512 "$H" $OLD --gamma 0.95 --num-steps 512 --num-minibatches 32
		jobs g95-4x512-lr3e-4 "$H" $OLD --gamma 0.95 --num-steps 512 --num-minibatches 32 --lr 3e-4
		jobs g95-4x512-dtarg0.02 "$H" $OLD --gamma 0.95 --num-steps 512 --num-minibatches 32 --penalty kl-adaptive:0.02
		jobs g95-4x512-16minibatches "$H" $OLD --gamma 0.95 --num-steps 512 --num-minibatches 16
		jobs g95-4x256 "$H" $OLD --gamma 0.95 --num-steps 256 --num-minibatches 16
		jobs g95-8x512 "$H" $OLD --gamma 0.95 --num-envs 8 --num-steps 512
		jobs default "$(seq 1 25)" $P
		jobs default-4x256 "$(seq 1 20)" $P --num-steps 256 --num-minibatches 16
		jobs default-8x256 "$(seq 1 25)" $P --num-envs 8 --num-steps 256
		jobs default-gamma-0.97 "21 22 23 24 25" $P --gamma 0.97
		jobs default-logstd+0.25 "21 22 23 24 25" $P --init-log-std 0.25
		jobs default-gradclip-2 "$(seq 11 25)" $P --max-grad-norm 2
		jobs default-15epochs "21 22 23 24 25" $P --update-epochs 15
		jobs default-dtarg0.02 "$(seq 11 20)" $P --penalty kl-adaptive:0.02
	} | runall
	table old old-logstd-0.5 old-logstd-1 old-gamma-0.95 old-gamma-0.98 old-no-gradclip old-4x512 old-16minibatches \
		old-constant-lr old-20epochs g95-4x512 g95-4x512-lr3e-4 g95-4x512-dtarg0.02 g95-4x512-16minibatches g95-4x256 \
		g95-8x512 default default-4x256 default-8x256 default-gamma-0.97 default-logstd+0.25 default-gradclip-2 \
		default-15epochs default-dtarg0.02
	;;
*)
	echo "usage: sh docs/repro-defaults.sh main|pendulum|variants" >&2
	exit 2
	;;
esac
