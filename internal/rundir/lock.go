package rundir

import (
	"errors"
	"fmt"
	"os"
)

// LockFile is the file in a run directory on which Lock takes its lock. It is created by the
// first run that writes the directory and stays there (empty while no process holds the lock,
// the holder's process id while one does). It is not one of Markers: a directory holding only
// a LockFile does not hold a run, and readers such as the runs viewer ignore it.
//
// The file is never removed, not even by the unlock function: removing it would let a process
// that opened the old file and a process that created a new one both hold "the" lock.
const LockFile = ".klppo.lock"

// ErrLocked is wrapped by Lock's error when another process (or another Lock in this process)
// holds the directory's lock: a run is writing there now.
var ErrLocked = errors.New("the directory is being written by another klppo")

// LockedError is Lock's error for a directory whose lock is held: Dir is the directory, PID the
// holder's process id as it wrote it into the LockFile (0 when it could not be read).
type LockedError struct {
	Dir string
	PID int
}

func (e *LockedError) Error() string {
	who := "another klppo"
	if e.PID > 0 {
		who = fmt.Sprintf("another klppo (pid %d)", e.PID)
	}
	return fmt.Sprintf("%s is writing %s; wait for it to finish or choose another directory", who, e.Dir)
}

// Unwrap makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Unwrap() error { return ErrLocked }

// isDir returns nil when dir is an existing directory, and an error naming it otherwise.
func isDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("rundir: lock: %s does not exist", dir)
	case err != nil:
		return fmt.Errorf("rundir: lock: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("rundir: lock: %s: exists and is not a directory", dir)
	}
	return nil
}

// CreateLocked makes dir (Create) and locks it (Lock): the start of a run that writes a new
// directory or writes over its own files.
func CreateLocked(dir string) (unlock func() error, err error) {
	if err := Create(dir); err != nil {
		return nil, fmt.Errorf("rundir: %s: %w", dir, err)
	}
	return Lock(dir)
}
