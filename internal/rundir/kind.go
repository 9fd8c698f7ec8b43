package rundir

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"klppo/internal/fileio"
)

// KindFile is the file in which a run directory states what wrote it: {"kind": "train"}.
//
// The kind has a file of its own rather than a key in config.json because config.json is an
// input too: `klppo train --config runs/X/config.json` re-reads it with ppo.ParseConfig, which
// refuses unknown keys (a typo in a hand-written config must not pass silently), and the RLHF
// commands write three different config structs. A separate file changes none of them.
const KindFile = "run.json"

// Kind names what kind of run a directory holds. The viewer (klppo serve) draws a run's page from
// its kind and never guesses it from paths or column names.
type Kind string

// The kinds of run klppo's commands write. Each is written by the library function that owns the
// directory's files (so a library caller gets it too), or by the command for directories only
// the command composes (the RLHF story, best-of-n and estimator outputs).
const (
	KindTrain        Kind = "train"           // klppo train: ppo.Train
	KindCompare      Kind = "compare"         // klppo compare (a sweep or a shard, or compare merge): experiments.Run, experiments.Merge
	KindVAE          Kind = "vae"             // klppo vae: vae.WriteOutputs
	KindDistill      Kind = "distill"         // klppo distill: distill.WriteOutputs
	KindRLHFStory    Kind = "rlhf"            // klppo rlhf without --kl-coef: sft/, rm/, no-leash/, leash/ and the story charts
	KindRLHFSFT      Kind = "rlhf-sft"        // klppo rlhf sft (and the sft/ of every RLHF command): rlhf.SaveSFT
	KindRLHFRM       Kind = "rlhf-rm"         // klppo rlhf rm (and every rm/): rlhf.SaveRM
	KindRLHFPPO      Kind = "rlhf-ppo"        // klppo rlhf ppo, klppo rlhf --kl-coef B, and each run of the story and of a sweep: rlhf.RunPPO
	KindRLHFGRPO     Kind = "rlhf-grpo"       // klppo rlhf grpo and each GRPO run of the leash experiment: rlhf.RunGRPO
	KindRLHFRLOO     Kind = "rlhf-rloo"       // klppo rlhf rloo and each RLOO run of the leash experiment: rlhf.RunRLOO
	KindRLHFBoN      Kind = "rlhf-bon"        // klppo rlhf bon
	KindRLHFSweep    Kind = "rlhf-sweep"      // klppo rlhf sweep: rlhf.Sweep
	KindRLHFLeash    Kind = "rlhf-leash"      // klppo rlhf leash: rlhf.Leash
	KindEstimators   Kind = "rlhf-estimators" // klppo rlhf estimators --optimise --out DIR
	KindRLHFDPO      Kind = "rlhf-dpo"        // klppo rlhf dpo, and each run of a drift or a frontier: rlhf.RunDPO
	KindRLHFDrift    Kind = "rlhf-drift"      // klppo rlhf drift: DPO/IPO arms × seeds, drift.md and charts
	KindRLHFFrontier Kind = "rlhf-frontier"   // klppo rlhf frontier: every method on one gold-vs-√KL frontier
)

// Kinds lists every Kind above, in the order of the list.
var Kinds = []Kind{KindTrain, KindCompare, KindVAE, KindDistill, KindRLHFStory, KindRLHFSFT, KindRLHFRM,
	KindRLHFPPO, KindRLHFGRPO, KindRLHFRLOO, KindRLHFBoN, KindRLHFSweep, KindRLHFLeash, KindEstimators, KindRLHFDPO,
	KindRLHFDrift, KindRLHFFrontier}

// OnlineRLHF reports whether k is a run of an online RLHF method (PPO, GRPO, RLOO): they write the
// same files (config.json, metrics.csv, samples.jsonl, summary.json).
func (k Kind) OnlineRLHF() bool { return k == KindRLHFPPO || k == KindRLHFGRPO || k == KindRLHFRLOO }

// Known reports whether k is one of Kinds.
func (k Kind) Known() bool {
	for _, x := range Kinds {
		if k == x {
			return true
		}
	}
	return false
}

// ErrNoKind is wrapped by ReadKind's error for a directory without a KindFile (a run written
// before runs stated their kind, or a directory that is not a run).
var ErrNoKind = errors.New("the run does not state its kind")

// info is the content of KindFile.
type info struct {
	Kind Kind `json:"kind"`
}

// WriteKind records in dir (created if missing) that it holds a run of kind k. The file is
// written atomically; an existing one is replaced.
func WriteKind(dir string, k Kind) error {
	if dir == "" {
		return ErrEmptyPath
	}
	if k == "" {
		return errors.New("rundir: empty kind")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("rundir: %w", err)
	}
	b, err := json.Marshal(info{Kind: k})
	if err != nil {
		return fmt.Errorf("rundir: %w", err)
	}
	if err := fileio.WriteAtomic(filepath.Join(dir, KindFile), append(b, '\n')); err != nil {
		return fmt.Errorf("rundir: %w", err)
	}
	return nil
}

// maxKindFile bounds what ReadKind and ParseKind read: the file holds one short JSON object.
const maxKindFile = 64 << 10

// ReadKind returns the kind dir states in its KindFile; the error wraps ErrNoKind when there is
// none, and names the file when it cannot be read or parsed.
func ReadKind(dir string) (Kind, error) {
	p := filepath.Join(dir, KindFile)
	b, err := fileio.ReadFile(p, maxKindFile)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%s: %w", dir, ErrNoKind)
	}
	if err != nil {
		return "", fmt.Errorf("rundir: %w", err)
	}
	k, err := ParseKind(b)
	if err != nil {
		return "", fmt.Errorf("rundir: %s: %w", p, err)
	}
	return k, nil
}

// ParseKind parses the content of a KindFile. A kind this build does not know (written by a
// newer klppo) is returned as it is: check Known.
func ParseKind(data []byte) (Kind, error) {
	if len(data) > maxKindFile {
		return "", fmt.Errorf("%w: %d bytes", fileio.ErrTooLarge, len(data))
	}
	var in info
	if err := json.Unmarshal(data, &in); err != nil {
		return "", fmt.Errorf("invalid JSON: %w", err)
	}
	if in.Kind == "" {
		return "", errors.New(`no "kind"`)
	}
	return in.Kind, nil
}
