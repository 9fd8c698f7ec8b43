#!/usr/bin/env bash
# Reproduces every run whose output docs/vae.md quotes, and the pictures it shows.
#
#   bash docs/repro-vae.sh
#
# Runs go to $OUT (default runs/repro-vae), $PARALLEL at a time (default 2), niced. Needs a klppo
# binary ($KLPPO, default: build one into $OUT). Each run leaves its printed output in
# $OUT/NAME.log, its wall and CPU time in $OUT/NAME.time and its files in $OUT/NAME/. The final
# lines of every run are printed at the end; the pictures are copied into $OUT/docs-png/ under
# the names docs/vae.md uses.
set -euo pipefail
OUT=${OUT:-runs/repro-vae}
PARALLEL=${PARALLEL:-2}
mkdir -p "$OUT"
if [[ -z "${KLPPO:-}" ]]; then
	go build -o "$OUT/klppo" ./cmd/klppo
	KLPPO=$OUT/klppo
fi
export KLPPO OUT

# One line per run: NAME FLAGS...
runs() {
	echo "vae"                       # "A run with the defaults" (printed in full)
	echo "vae-again"                 # the same run again: does a seed reproduce it?
	for b in 0 1 4; do
		for s in 1 2 3; do
			echo "vae-b$b-s$s --beta $b --seed $s --quiet"
		done
	done
	for b in 0 1 4; do
		echo "latent8-b$b --latent 8 --beta $b"
	done
	echo "latent8-b4-warmup10 --latent 8 --beta 4 --warmup 10"
	echo "latent8-b4-freebits0.5 --latent 8 --beta 4 --free-bits 0.5"
	for b in 0 1 4; do
		echo "ring-b$b --dataset ring --beta $b"
	done
	echo "shift2 --max-shift 2"
}

# run NAME FLAGS...: one klppo vae run.
run() {
	local name=$1
	shift
	/usr/bin/time -f "%e s wall, %U s user, %S s sys" -o "$OUT/$name.time" \
		nice -n 10 "$KLPPO" vae "$@" --out "$OUT/$name" --force >"$OUT/$name.log" 2>"$OUT/$name.err"
}
export -f run

runs | xargs -P "$PARALLEL" -L 1 bash -c 'run "$@"' _

# nosecs FILE: metrics.csv without its wall-time column (seconds).
nosecs() {
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "seconds") c = i }
		{ out = ""; for (i = 1; i <= NF; i++) if (i != c) out = out (out == "" ? "" : ",") $i; print out }' "$1"
}

# The default run must print the same numbers twice (only the output directory and the
# seconds column of metrics.csv may differ).
if diff <(grep -v '^wrote' "$OUT/vae.log") <(grep -v '^wrote' "$OUT/vae-again.log") >/dev/null &&
	diff <(nosecs "$OUT/vae/metrics.csv") <(nosecs "$OUT/vae-again/metrics.csv") >/dev/null; then
	echo "vae-again: identical to vae (printed output and metrics.csv)"
else
	echo "vae-again: DIFFERS from vae"
fi
cat "$OUT/vae.log"
for f in "$OUT"/*.log; do
	name=$(basename "$f" .log)
	echo "$name: $(grep '^final test' "$f") [$(cat "$OUT/$name.time")]"
done

# β = 0, 1, 4 table: mean ± sd (sample sd, n − 1) over seeds 1-3 of the final test ELBO,
# reconstruction and KL.
for b in 0 1 4; do
	for s in 1 2 3; do
		sed -n 's/^final test: ELBO \([-0-9.]*\) nats (recon \([0-9.]*\), KL \([0-9.]*\)).*active dims \([0-9/]*\).*/\1 \2 \3 \4/p' "$OUT/vae-b$b-s$s.log"
	done | awk -v b="$b" '
		{ for (i = 1; i <= 3; i++) { x[NR, i] = $i; m[i] += $i }; act = act (NR > 1 ? ", " : "") $4 }
		END {
			printf "β = %s:", b
			split("ELBO recon KL", name, " ")
			for (i = 1; i <= 3; i++) {
				m[i] /= NR; v = 0
				for (r = 1; r <= NR; r++) v += (x[r, i] - m[i]) ^ 2
				printf " %s %.3f ± %.3f,", name[i], m[i], sqrt(v / (NR - 1))
			}
			printf " active %s\n", act
		}'
done

# The pictures, under the names docs/vae.md uses.
mkdir -p "$OUT/docs-png"
for b in 0 1 4; do
	cp "$OUT/vae-b$b-s1/latent.png" "$OUT/docs-png/vae-latent-b$b.png"
	cp "$OUT/vae-b$b-s1/samples.png" "$OUT/docs-png/vae-samples-b$b.png"
done
cp "$OUT/latent8-b4/kl.png" "$OUT/docs-png/vae-kl-latent8-b4.png"
cp "$OUT/latent8-b4-freebits0.5/kl.png" "$OUT/docs-png/vae-kl-latent8-b4-freebits.png"
cp "$OUT/ring-b1/samples.png" "$OUT/docs-png/vae-ring-b1.png"
cp "$OUT/ring-b1/latent.png" "$OUT/docs-png/vae-ring-latent-b1.png"
cp "$OUT/shift2/latent.png" "$OUT/docs-png/vae-latent-shift2.png"
