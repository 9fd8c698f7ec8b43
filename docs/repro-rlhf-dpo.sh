#!/usr/bin/env bash
# Reproduces the numbers and charts of docs/rlhf-dpo.md: one DPO run; the PPO sweep and
# best-of-n and the leash experiment's GRPO and RLOO runs that the frontier builds on; DPO/IPO
# β grids on the sweep's seeds (the frontier); the drift experiment on deterministic preferences.
#
#   bash docs/repro-rlhf-dpo.sh
#
# Runs go to $OUT (default runs/repro-rlhf-dpo), niced; needs a klppo binary ($KLPPO, default:
# build one into $OUT). Every run is deterministic: the same build gives the same files apart
# from wall times.
set -euo pipefail
OUT=${OUT:-runs/repro-rlhf-dpo}
mkdir -p "$OUT"
if [ -z "${KLPPO:-}" ]; then
	go build -o "$OUT/klppo" ./cmd/klppo
	KLPPO=$OUT/klppo
fi
run() { echo "+ $*" >&2; nice -n 10 "$@"; }

# One DPO run (TRL's defaults: β = 0.1, the log-ratio summed over the completion): summary.json.
run "$KLPPO" rlhf dpo --seed 1 --loss dpo --beta 0.1 --out "$OUT/dpo" --quiet

# The PPO β sweep and best-of-n on seeds 1-3 (the frontier's π_ref, reward models and pairs).
run "$KLPPO" rlhf sweep --out "$OUT/sweep" --quiet

# GRPO and RLOO (and prompted PPO) × gold/learned reward × β on seeds 1-3 (docs/rlhf-leash.md);
# the frontier takes the GRPO and RLOO runs against the learned reward (rm), copied into one
# directory per method (a --method directory is searched for every run below it).
run "$KLPPO" rlhf leash --out "$OUT/leash" --quiet
for m in grpo rloo; do
	for d in "$OUT"/leash/seed-*/"$m"-rm-beta-*; do
		t=$OUT/methods/$m/$(basename "$(dirname "$d")")/$(basename "$d")
		mkdir -p "$t"
		cp "$d/metrics.csv" "$d/summary.json" "$t/"
	done
done

# DPO and IPO β grids on the sweep's seeds (the default arms: DPO β 0.01-1, IPO τ 0.1-3 with
# TRL's per-token mean, IPO τ 0.03-0.3 with the sum), on one frontier with PPO, best-of-n, GRPO
# and RLOO.
run "$KLPPO" rlhf frontier --sweep "$OUT/sweep" --out "$OUT/frontier" --quiet \
	--method grpo="$OUT/methods/grpo" --method rloo="$OUT/methods/rloo"

# The drift experiment: deterministic preferences (label noise 0), DPO β 0.1, IPO τ 0.1 (TRL's
# per-token mean and the paper's sum), seeds 1-3, 20 epochs (the defaults).
run "$KLPPO" rlhf drift --out "$OUT/drift" --quiet
