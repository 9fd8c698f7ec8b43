package estimators

import (
	"fmt"
	"math"

	"klppo/experiments"
	"klppo/internal/rng"
	"klppo/kl"
)

// SchulmanDeltas are the shifts of Schulman's table: q = N(0,1), p = N(δ,1).
var SchulmanDeltas = []float64{0.1, 1}

// SchulmanRow is one estimator at one shift: measured and closed-form bias/KL and std/KL.
type SchulmanRow struct {
	Delta      float64 // p = N(δ, 1), q = N(0, 1), samples x ~ q, estimating KL(q‖p) = δ²/2
	TrueKL     float64
	Estimator  string
	BiasRel    float64 // measured (mean − KL)/KL
	BiasRelSE  float64 // its Monte Carlo standard error
	StdRel     float64 // measured sample std / KL
	StdRelSE   float64 // its standard error, √((m₄ − s⁴)/(4·s²·n))/KL
	ClosedBias float64 // exact bias/KL (kl.Estimator.ShiftedNormalMoments)
	ClosedStd  float64 // exact std/KL
	MaxZ       float64 // max of |measured − closed form| / standard error over the two columns
}

// SchulmanTable samples x ~ N(0,1) samples times per shift and measures k1, k2, k3 as
// estimators of KL(q‖p) (log-ratio ln p(x) − ln q(x) from kl.Normal), next to the closed forms.
func SchulmanTable(samples int, seed uint64) ([]SchulmanRow, error) {
	if samples < 100 {
		return nil, fmt.Errorf("estimators: schulman table: samples = %d, want ≥ 100", samples)
	}
	var rows []SchulmanRow
	for di, delta := range SchulmanDeltas {
		q, p := kl.Normal{Mu: 0, Sigma: 1}, kl.Normal{Mu: delta, Sigma: 1}
		trueKL, err := q.KL(p)
		if err != nil {
			return nil, fmt.Errorf("estimators: schulman table: %w", err)
		}
		draws := rng.New(seed, uint64(di)+0x5c)
		lr := make([]float64, samples)
		for i := range lr {
			x := draws.NormFloat64()
			lr[i] = p.LogProb(x) - q.LogProb(x)
		}
		for _, e := range []kl.Estimator{kl.K1, kl.K2, kl.K3} {
			v := make([]float64, samples)
			for i, l := range lr {
				v[i] = e.Sample(l)
			}
			m := experiments.NewMeanSE(v)
			var m2, m4 float64
			for _, x := range v {
				d := (x - m.Mean) * (x - m.Mean)
				m2 += d
				m4 += d * d
			}
			m2 /= float64(samples)
			m4 /= float64(samples)
			std := math.Sqrt(m2)
			mean, cstd, err := e.ShiftedNormalMoments(delta)
			if err != nil {
				return nil, fmt.Errorf("estimators: schulman table: %w", err)
			}
			row := SchulmanRow{Delta: delta, TrueKL: trueKL, Estimator: e.String(),
				BiasRel: (m.Mean - trueKL) / trueKL, BiasRelSE: m.SE / trueKL,
				StdRel: std / trueKL, StdRelSE: math.Sqrt(math.Max(m4-m2*m2, 0)/(4*m2*float64(samples))) / trueKL,
				ClosedBias: (mean - trueKL) / trueKL, ClosedStd: cstd / trueKL}
			row.MaxZ = math.Max(math.Abs(row.BiasRel-row.ClosedBias)/row.BiasRelSE, math.Abs(row.StdRel-row.ClosedStd)/row.StdRelSE)
			rows = append(rows, row)
		}
	}
	return rows, nil
}
