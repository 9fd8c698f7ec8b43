// Package rundir guards the output directories of klppo's commands: a command that writes a run
// directory (train, compare, vae, distill, …) must not overwrite another run's files without being
// told to. A directory "holds a run" when it contains one of the Markers files, whatever command
// wrote it: a training run's metrics.csv is as precious to `klppo vae --out` as to `klppo train`.
//
// Typical use, before any work is done:
//
//	if err := rundir.Check(dir); err != nil && !force {
//		return err // names the directory and the file found
//	}
//
// A run also states its kind: every command records what wrote a run directory in its KindFile
// (run.json, {"kind": "train"}) with WriteKind, and readers such as the runs viewer of
// `klppo serve` take the kind from ReadKind (or ParseKind) instead of guessing it from the
// directory's path or its CSV columns. Kinds lists the kinds and what writes each.
//
// A run holds its directory while it writes it: Lock takes an advisory exclusive lock (flock(2)
// on the directory's LockFile, .klppo.lock) that a second process asking for it — a second
// --resume of the same sweep, or a second fresh run started at the same moment into the same
// empty directory — is refused at once with an error wrapping ErrLocked. The library functions
// that own a run directory take it right after the directory exists and before Check, so that
// the check and the writes that follow are one step for every other klppo:
//
//	unlock, err := rundir.Lock(dir)
//	if err != nil {
//		return err // errors.Is(err, rundir.ErrLocked): another klppo is writing dir
//	}
//	defer unlock()
package rundir
