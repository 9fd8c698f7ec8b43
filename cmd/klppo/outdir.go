package main

import "klppo/internal/rundir"

// guardOut refuses an output directory given by flag (e.g. "--out") that is "" or that already
// holds a run of any kind (see rundir.Markers) unless force is set. Every command that writes a run
// directory calls it before doing any work.
func guardOut(flag, dir string, force bool) error {
	err := rundir.Check(dir)
	switch {
	case err == nil:
		return nil
	case rundir.HoldsRun(err) && force:
		return nil
	case rundir.HoldsRun(err):
		return usagef("%s %s: %v; pass --force to overwrite its files or choose another %s", flag, dir, err, flag)
	default:
		return usagef("%s %q: %v", flag, dir, err)
	}
}
