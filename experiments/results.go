package experiments

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"klppo/internal/fileio"
)

// RunRecord is one row of runs.csv.
//
// The return measures are computed from the run's episodes.csv (global_step,return,length):
//   - FinalReturn: mean return of the last 10 episodes (as ppo's summary.json final_return);
//   - Last100Return: mean return of the last 100 episodes (all of them if fewer): the measure
//     the PPO paper scored Table 1 with;
//   - AUCReturn: the normalised area under the learning curve R(x), where R(x) is the mean return
//     of the last 10 episodes finished by env step x: the mean of R over the CurvePoints grid
//     x_k = k·steps/CurvePoints, k = 1…CurvePoints, skipping grid points before the first episode.
//     It rewards learning early as well as ending high.
//
// FirstStepSolved is the first global step at which R(x) ≥ the env's solved threshold (-1 if never
// or if the env has none). The KL, β and clip-fraction columns are means (and the maximum) over the
// rows of the run's metrics.csv: kl is the exact mean KL(π_old‖π_new) of each update.
type RunRecord struct {
	Setting string
	Seed    uint64
	Dir     string // relative to the sweep's OutDir
	Status  string // StatusOK, StatusFailed, StatusInterrupted, StatusPending
	Error   string

	FinalReturn     float64
	Last100Return   float64
	AUCReturn       float64
	FirstStepSolved int
	KLMean, KLMax   float64
	BetaMean        float64 // NaN for settings without β
	ClipFracMean    float64
	Episodes        int
	Steps           int
	WallS           float64
}

// CurvePoints is the number of grid points of the learning curves (charts and AUCReturn).
const CurvePoints = 100

var runsHeader = []string{"setting", "seed", "status", "error", "final_return", "last100_return", "auc_return",
	"first_step_solved", "kl_mean", "kl_max", "beta_mean", "clipfrac_mean", "episodes", "steps", "wall_s", "dir"}

// WriteRunsCSV writes runs.csv atomically (fileio.WriteAtomicFunc).
func WriteRunsCSV(path string, recs []RunRecord) error {
	err := fileio.WriteAtomicFunc(path, func(out io.Writer) error {
		w := csv.NewWriter(out)
		_ = w.Write(runsHeader)
		for _, r := range recs {
			_ = w.Write([]string{r.Setting, strconv.FormatUint(r.Seed, 10), r.Status, oneLine(r.Error),
				fmtF(r.FinalReturn), fmtF(r.Last100Return), fmtF(r.AUCReturn), strconv.Itoa(r.FirstStepSolved),
				fmtF(r.KLMean), fmtF(r.KLMax), fmtF(r.BetaMean), fmtF(r.ClipFracMean),
				strconv.Itoa(r.Episodes), strconv.Itoa(r.Steps), strconv.FormatFloat(r.WallS, 'f', 2, 64), filepath.ToSlash(r.Dir)})
		}
		w.Flush()
		return w.Error()
	})
	if err != nil {
		return fmt.Errorf("runs.csv: %w", err)
	}
	return nil
}

// ReadRunsCSV reads a runs.csv written by WriteRunsCSV.
func ReadRunsCSV(path string) ([]RunRecord, error) {
	data, err := fileio.ReadFile(path, fileio.LargeFile)
	if err != nil {
		return nil, fmt.Errorf("runs.csv: %w", err)
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != strings.Join(runsHeader, ",") {
		return nil, fmt.Errorf("%s: header is not %s", path, strings.Join(runsHeader, ","))
	}
	var recs []RunRecord
	for n, row := range rows[1:] {
		line := n + 2
		var r RunRecord
		var perr error
		num := func(col int) float64 {
			v, err := parseF(row[col])
			if err != nil && perr == nil {
				perr = fmt.Errorf("%s line %d column %s: %w", path, line, runsHeader[col], err)
			}
			return v
		}
		integer := func(col int) int {
			v, err := strconv.Atoi(row[col])
			if err != nil && perr == nil {
				perr = fmt.Errorf("%s line %d column %s: %q is not an integer", path, line, runsHeader[col], row[col])
			}
			return v
		}
		r.Setting = row[0]
		seed, err := strconv.ParseUint(row[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s line %d column seed: %q is not a seed", path, line, row[1])
		}
		r.Seed = seed
		r.Status, r.Error = row[2], row[3]
		r.FinalReturn, r.Last100Return, r.AUCReturn = num(4), num(5), num(6)
		r.FirstStepSolved = integer(7)
		r.KLMean, r.KLMax, r.BetaMean, r.ClipFracMean = num(8), num(9), num(10), num(11)
		r.Episodes, r.Steps = integer(12), integer(13)
		r.WallS = num(14)
		r.Dir = filepath.FromSlash(row[15])
		if perr != nil {
			return nil, perr
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// Curves are one run's per-update series (from metrics.csv) and learning curve (from episodes.csv).
type Curves struct {
	UpdateSteps []float64 // global_step of each update
	KL          []float64
	Beta        []float64
	ClipFrac    []float64
	// Return[k] is R(x_k), the mean return of the last 10 episodes finished by x_k = (k+1)·steps/CurvePoints
	// (NaN before the first episode).
	Return []float64
	// EpisodeSteps and EpisodeReturns are the raw episodes.
	EpisodeSteps   []int
	EpisodeReturns []float64
}

// ReadCurves reads a run folder's metrics.csv and episodes.csv; steps is the run's budget (for the grid).
func ReadCurves(dir string, steps int) (Curves, error) {
	var c Curves
	m, err := readCSVColumns(filepath.Join(dir, "metrics.csv"), "global_step", "kl", "beta", "clipfrac")
	if err != nil {
		return c, err
	}
	c.UpdateSteps, c.KL, c.Beta, c.ClipFrac = m[0], m[1], m[2], m[3]
	e, err := readCSVColumns(filepath.Join(dir, "episodes.csv"), "global_step", "return")
	if err != nil {
		return c, err
	}
	c.EpisodeReturns = e[1]
	c.EpisodeSteps = make([]int, len(e[0]))
	for i, v := range e[0] {
		c.EpisodeSteps[i] = int(v)
	}
	c.Return = ReturnCurve(c.EpisodeSteps, c.EpisodeReturns, steps, CurvePoints)
	return c, nil
}

// ReturnCurve evaluates R(x) — the mean return of the last 10 episodes whose global step is ≤ x — at
// x_k = k·steps/points, k = 1…points (NaN where no episode has finished yet). Episodes must be in
// order of global step.
func ReturnCurve(epSteps []int, epReturns []float64, steps, points int) []float64 {
	out := make([]float64, points)
	j := 0
	for k := 1; k <= points; k++ {
		x := int(math.Round(float64(k) * float64(steps) / float64(points)))
		for j < len(epSteps) && epSteps[j] <= x {
			j++
		}
		out[k-1] = tailMean(epReturns[:j], 10)
	}
	return out
}

// firstSolved returns the first episode's global step at which the trailing 10-episode mean return
// reaches threshold (counting from the 1st episode, as ppo does), or -1.
func firstSolved(epSteps []int, epReturns []float64, threshold float64) int {
	if math.IsNaN(threshold) {
		return -1
	}
	for i := range epReturns {
		if tailMean(epReturns[:i+1], 10) >= threshold {
			return epSteps[i]
		}
	}
	return -1
}

// tailMean is the mean of the last n values of xs (all of them if fewer), NaN if xs is empty.
func tailMean(xs []float64, n int) float64 {
	if len(xs) == 0 {
		return nan
	}
	if len(xs) > n {
		xs = xs[len(xs)-n:]
	}
	s := 0.0
	for _, v := range xs {
		s += v
	}
	return s / float64(len(xs))
}

// meanFinite is the mean of the finite values of xs (NaN if none).
func meanFinite(xs []float64) float64 {
	s, n := 0.0, 0
	for _, v := range xs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			s += v
			n++
		}
	}
	if n == 0 {
		return nan
	}
	return s / float64(n)
}

func maxFinite(xs []float64) float64 {
	m := nan
	for _, v := range xs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) && (math.IsNaN(m) || v > m) {
			m = v
		}
	}
	return m
}

// readCSVColumns reads the named numeric columns of a CSV file with a header row. Empty cells and
// "NaN" read as NaN.
func readCSVColumns(path string, names ...string) ([][]float64, error) {
	data, err := fileio.ReadFile(path, fileio.LargeFile)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(bytes.NewReader(data))
	header, err := r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty file", path)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	idx := make([]int, len(names))
	for i, n := range names {
		idx[i] = -1
		for j, h := range header {
			if strings.TrimSpace(h) == n {
				idx[i] = j
			}
		}
		if idx[i] < 0 {
			return nil, fmt.Errorf("%s: no column %q", path, n)
		}
	}
	out := make([][]float64, len(names))
	line := 1
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line++
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for i, j := range idx {
			v, err := parseF(row[j])
			if err != nil {
				return nil, fmt.Errorf("%s line %d column %s: %w", path, line, names[i], err)
			}
			out[i] = append(out[i], v)
		}
	}
	return out, nil
}

func parseF(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "nan") {
		return nan, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return v, nil
}

func fmtF(v float64) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', 8, 64)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
