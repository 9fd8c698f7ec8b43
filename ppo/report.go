package ppo

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"strconv"
	"strings"

	"klppo/internal/fileio"
)

// ReadMetrics reads a metrics.csv written by Train.
func ReadMetrics(path string) ([]UpdateMetrics, error) {
	data, err := fileio.ReadFile(path, fileio.LargeFile)
	if err != nil {
		return nil, fmt.Errorf("ppo: %w", err)
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("ppo: %s: %w", path, err)
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != MetricsHeader {
		return nil, fmt.Errorf("ppo: %s: missing header %q", path, MetricsHeader)
	}
	var out []UpdateMetrics
	for i, r := range recs[1:] {
		if len(r) != 16 {
			return nil, fmt.Errorf("ppo: %s line %d: %d fields, want 16", path, i+2, len(r))
		}
		var fs [16]float64
		for j, s := range r {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, fmt.Errorf("ppo: %s line %d field %d: %q is not a number", path, i+2, j+1, s)
			}
			fs[j] = v
		}
		out = append(out, UpdateMetrics{Update: int(fs[0]), GlobalStep: int(fs[1]), WallS: fs[2], SPS: fs[3],
			EpisodicReturn: fs[4], KL: fs[5], ApproxKLK1: fs[6], ApproxKLK3: fs[7], Beta: fs[8], ClipFrac: fs[9],
			Entropy: fs[10], PolicyLoss: fs[11], ValueLoss: fs[12], ExplainedVariance: fs[13], LR: fs[14], Epochs: int(fs[15])})
	}
	return out, nil
}

// Quarter summarises one quarter of a run's updates.
type Quarter struct {
	FirstUpdate, LastUpdate int
	LastStep                int
	KL, Beta, ClipFrac      float64 // means over the quarter's updates
	MaxKL                   float64
	Epochs                  float64 // mean epochs run per update
	Return                  float64 // 10-episode mean return at the quarter's last update
}

// Quarters splits the updates into four consecutive groups (as equal as possible) and averages
// KL, β and clip fraction in each; fewer than four updates give one group per update.
func Quarters(ms []UpdateMetrics) []Quarter {
	n := len(ms)
	k := min(4, n)
	var out []Quarter
	for q := 0; q < k; q++ {
		lo, hi := q*n/k, (q+1)*n/k
		part := ms[lo:hi]
		Q := Quarter{FirstUpdate: part[0].Update, LastUpdate: part[len(part)-1].Update,
			LastStep: part[len(part)-1].GlobalStep, Return: part[len(part)-1].EpisodicReturn}
		cnt := 0.0
		for _, m := range part {
			Q.KL += m.KL
			Q.Beta += m.Beta
			Q.Epochs += float64(m.Epochs)
			Q.MaxKL = math.Max(Q.MaxKL, m.KL)
			if !math.IsNaN(m.ClipFrac) {
				Q.ClipFrac += m.ClipFrac
				cnt++
			}
		}
		l := float64(len(part))
		Q.KL /= l
		Q.Beta /= l
		Q.Epochs /= l
		if cnt > 0 {
			Q.ClipFrac /= cnt
		} else {
			Q.ClipFrac = math.NaN()
		}
		out = append(out, Q)
	}
	return out
}

// FormatQuarters renders Quarters as a fixed-width text table.
func FormatQuarters(qs []Quarter) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-8s %-10s %8s %9s %9s %9s %8s %6s %8s\n", "quarter", "updates", "to step", "mean KL", "max KL", "mean β", "clipfrac", "epochs", "return")
	for i, q := range qs {
		fmt.Fprintf(&b, "%-8d %-10s %8d %9.3g %9.3g %9.3g %8.4f %6.2f %8.1f\n", i+1,
			fmt.Sprintf("%d-%d", q.FirstUpdate, q.LastUpdate), q.LastStep, q.KL, q.MaxKL, q.Beta, q.ClipFrac, q.Epochs, q.Return)
	}
	return b.String()
}
