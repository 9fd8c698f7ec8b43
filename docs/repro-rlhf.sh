#!/usr/bin/env bash
# Reproduces every number quoted in docs/rlhf.md, docs/rlhf-estimators.md and the README's RLHF
# block, one command per quoted block or table, and prints each table from the runs' files.
#
#   bash docs/repro-rlhf.sh              # the default stages (minutes; the sweep takes longest)
#   bash docs/repro-rlhf.sh story prop   # only some stages: story sft rm bon prop placements sweep estimators
#   bash docs/repro-rlhf.sh leash memory # the stages not run by default
#
# Runs go to $OUT (default runs/repro-rlhf). Needs jq and awk; builds a klppo binary into $OUT
# unless $KLPPO names one. Every run is deterministic: the same build on the same machine gives the
# same numbers (apart from tokens_per_s and wall_s, which this script never prints); a CPU that
# takes other kernels (kl/fast, nn's AVX2) may differ in the last digits. The memory stage
# needs /usr/bin/time and ≈ 6 GiB free, and takes a few minutes; it is not in the default set.
set -euo pipefail
OUT=${OUT:-runs/repro-rlhf}
mkdir -p "$OUT"
if [[ -z "${KLPPO:-}" ]]; then
	go build -o "$OUT/klppo" ./cmd/klppo
	KLPPO=$OUT/klppo
fi
SEEDS=(1 2 3)

# summary DIR KEY...: the keys of DIR/summary.json, tab-separated.
summary() {
	local dir=$1
	shift
	local q
	q=$(printf '.%s,' "$@")
	jq -r "[${q%,}] | @tsv" "$dir/summary.json"
}

# story: docs/rlhf.md "The story" (seed 1's block, the 3-seed table and the sample texts) and the
# README's block: `klppo rlhf --seed S` on seeds 1-3. Seed 1's printed block is $OUT/story-s1.txt.
story() {
	local s
	for s in "${SEEDS[@]}"; do
		"$KLPPO" rlhf --seed "$s" --out "$OUT/story-s$s" --force >"$OUT/story-s$s.txt"
	done
	echo "== story (docs/rlhf.md, README): seed 1's output"
	grep -v 'tokens/s\|^wrote' "$OUT/story-s1.txt"
	echo "== the story on three seeds"
	echo "seed | π_ref proxy / gold | β=0: final proxy | peak gold (update, KL) | final gold | in-lang | β=0.5: final gold | KL | in-lang"
	for s in "${SEEDS[@]}"; do
		local d=$OUT/story-s$s
		paste <(echo "$s") <(summary "$d/no-leash" ref_proxy ref_gold final_proxy peak_gold peak_update peak_kl final_gold final_in_language) \
			<(summary "$d/leash" final_gold final_kl final_in_language) |
			awk -F'\t' '{ printf "%s | %.2f / %.3f | %.2f | %.3f (%d, %.2f) | %.3f | %.0f%% | %.3f | %.2f | %.0f%%\n", $1, $2, $3, $4, $5, $6, $7, $8, 100*$9, $10, $11, 100*$12 }'
	done
	echo "== sample texts of the β = 0 runs (start | peak | end)"
	for s in "${SEEDS[@]}"; do
		jq -r --arg s "$s" '"\($s) | \(.samples_start[0]) | \(.samples_peak[0]) | \(.samples_end[0])"' "$OUT/story-s$s/no-leash/summary.json"
	done
}

# sft: docs/rlhf.md section 3, π_ref alone (seed 1).
sft() {
	echo "== klppo rlhf sft (seed 1)"
	"$KLPPO" rlhf sft --out "$OUT/sft" --force --quiet
}

# rm: docs/rlhf.md section 4, the reward model's weights and accuracies (seed 1).
rm_() {
	[[ -f $OUT/sft/model.klppo ]] || sft >/dev/null
	echo "== klppo rlhf rm (seed 1)"
	"$KLPPO" rlhf rm --sft "$OUT/sft" --out "$OUT/rm" --force --quiet
}

# bon: docs/rlhf.md section 6, best-of-n on seed 1.
bon() {
	[[ -f $OUT/rm/rm/rm.klnn ]] || rm_ >/dev/null
	echo "== klppo rlhf bon (seed 1)"
	"$KLPPO" rlhf bon --sft "$OUT/sft" --rm "$OUT/rm/rm" --out "$OUT/bon" --force --quiet
	echo "== the bound capped at ln(pool): --n 1000000 --pool 500"
	"$KLPPO" rlhf bon --sft "$OUT/sft" --rm "$OUT/rm/rm" --n 1000000 --pool 500 --out "$OUT/bon-cap" --force --quiet
}

# prop: docs/rlhf.md "The proportional controller holds the KL", on each seed's story models.
prop() {
	local s
	[[ -f $OUT/story-s3/rm/rm.klnn ]] || story >/dev/null
	echo "== --kl-ctl prop --kl-coef 0.1 --kl-target 1.5"
	echo "seed | final KL | KL updates 76-150 (mean ± sd) | peak KL (update) | final β | final gold | in-lang"
	for s in "${SEEDS[@]}"; do
		local d=$OUT/prop-s$s
		"$KLPPO" rlhf ppo --sft "$OUT/story-s$s/sft" --rm "$OUT/story-s$s/rm" --kl-ctl prop --kl-coef 0.1 --kl-target 1.5 \
			--seed "$s" --out "$d" --force --quiet >/dev/null
		local line
		line=$(awk -F, 'NR > 1 { if ($4 > pk) { pk = $4; pu = $1 } if ($1 >= 76) { n++; m += $4; q += $4 * $4 } }
			END { m /= n; printf "%.2f ± %.2f | %.1f (%d)", m, sqrt((q - n * m * m) / (n - 1)), pk, pu }' "$d/metrics.csv")
		summary "$d" final_kl final_beta final_gold final_in_language |
			awk -F'\t' -v s="$s" -v l="$line" '{ printf "%s | %.2f | %s | %.3f | %.3f | %.0f%%\n", s, $1, l, $2, $3, 100*$4 }'
	done
}

# placements: docs/rlhf.md "Where the KL goes": seed 1, β = 0.5, every --kl-estimator/--kl-in pair quoted.
placements() {
	[[ -f $OUT/story-s1/rm/rm.klnn ]] || story >/dev/null
	echo "== placements, seed 1, β = 0.5"
	echo "config | final proxy | final gold | final KL | in-lang"
	local c
	for c in k1-reward k3-reward exact-reward k1-loss k2-loss k3-loss exact-loss; do
		"$KLPPO" rlhf ppo --sft "$OUT/story-s1/sft" --rm "$OUT/story-s1/rm" --kl-coef 0.5 \
			--kl-estimator "${c%-*}" --kl-in "${c#*-}" --seed 1 --out "$OUT/place-$c" --force --quiet >/dev/null
		summary "$OUT/place-$c" final_proxy final_gold final_kl final_in_language |
			awk -F'\t' -v c="$c" '{ printf "%s | %.2f | %.3f | %.2f | %.0f%%\n", c, $1, $2, $3, 100*$4 }'
	done
}

# sweep: docs/rlhf.md section 7, 7 β × 3 seeds + best-of-n, the Gao fits (frontier.md).
sweep() {
	echo "== klppo rlhf sweep"
	"$KLPPO" rlhf sweep --out "$OUT/sweep" --force --quiet
	cat "$OUT/sweep/frontier.md"
}

# estimators: docs/rlhf-estimators.md, its three printed blocks and the exit-2 example.
estimators() {
	echo "== klppo rlhf estimators"
	"$KLPPO" rlhf estimators
	echo "== klppo rlhf estimators --optimise (section 3; the chart goes to $OUT/estimators)"
	mkdir -p "$OUT/estimators"
	"$KLPPO" rlhf estimators --optimise --out "$OUT/estimators" | sed -n '/^3\./,/^4\./p' | sed '$d'
	echo "== klppo rlhf estimators at π = π_ref, --json"
	"$KLPPO" rlhf estimators --logits 0,0 --ref-logits 0,0 --reward 0,1 --beta 1 --samples 0 --table-samples 1000 --json
	echo
	echo "== a bad flag (exit status 2)"
	local rc=0
	"$KLPPO" rlhf estimators --reward 1,2 || rc=$?
	echo "exit status $rc"
}

# leash: docs/rlhf-leash.md's tables (72 runs + best-of-n; not in the default set). With
# LEASH_FLAGS="--methods ppo --betas 0" only the PPO β = 0 rows, which take a few minutes.
leash() {
	echo "== klppo rlhf leash ${LEASH_FLAGS:-}"
	# shellcheck disable=SC2086 # LEASH_FLAGS are words
	"$KLPPO" rlhf leash ${LEASH_FLAGS:-} --out "$OUT/leash" --force --quiet >/dev/null
	cat "$OUT/leash/leash.md"
}

# memory: docs/rlhf.md "Memory", each stage's estimate against its peak RSS (/usr/bin/time).
memory() {
	local m=$OUT/mem
	mkdir -p "$m"
	"$KLPPO" rlhf rm --corpus 1000 --pairs 200 --out "$m/small" --force --quiet >/dev/null
	# The DPO rows train on the pairs of a reward model of 200000 pairs (loaded: the run is DPO's alone).
	"$KLPPO" rlhf rm --sft "$m/small/sft" --pairs 200000 --out "$m/big" --force --quiet >/dev/null
	local cmd
	while IFS= read -r cmd; do
		# The estimate is printed when a run is refused, so GOMEMLIMIT=1 asks for it without running.
		# shellcheck disable=SC2086 # the flags are words
		GOMEMLIMIT=1 "$KLPPO" rlhf $cmd --out "$m/run" --force --quiet >"$m/log" 2>&1 || true
		# shellcheck disable=SC2086
		/usr/bin/time -f "%M" -o "$m/rss" "$KLPPO" rlhf $cmd --out "$m/run" --force --quiet >/dev/null 2>&1
		printf '%s | estimate: %s | peak RSS %.2f GiB\n' "$cmd" "$(grep -o 'needs about [^ ]* [^ ]*' "$m/log" | head -1)" \
			"$(awk '{ print $1 / 1048576 }' "$m/rss")"
	done <<EOF
ppo --sft $m/small/sft --rm $m/small/rm --minibatch 200000 --updates 1
ppo --sft $m/small/sft --rm $m/small/rm --batch 20000 --updates 1
ppo --sft $m/small/sft --rm $m/small/rm --updates 2
grpo --sft $m/small/sft --rm $m/small/rm --prompts 8 --group 2500 --updates 1
rloo --sft $m/small/sft --rm $m/small/rm --prompts 8 --k 2500 --updates 1
grpo --sft $m/small/sft --rm $m/small/rm --minibatch 200000 --updates 1
grpo --sft $m/small/sft --rm $m/small/rm --distinct-prompts 500 --distinct-samples 500 --updates 1
sft --corpus 200000 --sft-epochs 1
rm --sft $m/small/sft --pairs 500000
bon --sft $m/small/sft --rm $m/small/rm --pool 1000000
dpo --sft $m/small/sft --rm $m/small/rm
dpo --sft $m/small/sft --rm $m/big/rm --epochs 1 --evals-per-epoch 1
dpo --sft $m/small/sft --rm $m/big/rm --batch 1024 --epochs 1 --evals-per-epoch 1
EOF
}

stages=("$@")
[[ ${#stages[@]} -gt 0 ]] || stages=(story sft rm bon prop placements sweep estimators)
for st in "${stages[@]}"; do
	case $st in
	rm) rm_ ;;
	story | sft | bon | prop | placements | sweep | estimators | leash | memory) "$st" ;;
	*)
		echo "repro-rlhf.sh: unknown stage $st" >&2
		exit 2
		;;
	esac
done
