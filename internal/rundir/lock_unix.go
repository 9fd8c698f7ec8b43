//go:build unix && !aix

package rundir

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Lock takes an advisory exclusive lock on the run directory dir, which must exist, for as long
// as a run writes it: every library function that owns a run directory for a whole run (ppo.Train,
// experiments.Run, the RLHF runs and experiments) takes it before it reads or checks the
// directory and releases it on every return, so that two processes cannot write one directory at
// the same time — two --resume of one sweep, or two fresh runs started together into one empty
// directory, which both pass Check. The second one gets, at once, an error wrapping ErrLocked
// (a *LockedError naming dir and the holder's process id).
//
// The lock is flock(2) with LOCK_EX|LOCK_NB on dir/LockFile (created if missing; a symbolic link
// or a file that is not regular is refused). The operating system releases it when the holder
// exits, however it exits, so a crashed run never leaves a stale lock behind. flock locks belong
// to an open file description, so a second Lock of the same directory fails in the same process
// too: locks are not reentrant. Locks are per directory: a sweep holding its directory can run
// runs that lock directories inside it. Like every flock, it is advisory (only processes that
// call Lock respect it) and may not work on network file systems.
//
// unlock releases the lock; it clears the process id from the file and closes it, and may be
// called more than once (later calls return the first call's result).
//
// On platforms without flock (Windows, js, wasip1, AIX) Lock only checks that
// dir is a directory and its unlock does nothing: there, nothing stops two processes writing one
// directory.
func Lock(dir string) (unlock func() error, err error) {
	if dir == "" {
		return nil, ErrEmptyPath
	}
	if err := isDir(dir); err != nil {
		return nil, err
	}
	p := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0o644)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return nil, fmt.Errorf("rundir: lock: %s is a symbolic link", p)
		}
		return nil, fmt.Errorf("rundir: lock: %w", err)
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("rundir: lock: %w", err)
		}
		return nil, fmt.Errorf("rundir: lock: %s is not a regular file (%s)", p, fi.Mode().Type())
	}
	fd := int(f.Fd())
	for {
		err = unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		pid := readPID(f)
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, &LockedError{Dir: dir, PID: pid}
		}
		return nil, fmt.Errorf("rundir: lock %s: %w", p, err)
	}
	// The holder's process id, for the error of the next one that tries.
	if err := writePID(f, strconv.Itoa(os.Getpid())+"\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("rundir: lock: %w", err)
	}
	return sync.OnceValue(func() error {
		werr := writePID(f, "")
		cerr := f.Close() // releases the lock
		if err := errors.Join(werr, cerr); err != nil {
			return fmt.Errorf("rundir: unlock %s: %w", p, err)
		}
		return nil
	}), nil
}

// writePID replaces the content of the lock file f with s.
func writePID(f *os.File, s string) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(s), 0)
	return err
}

// readPID returns the process id written in the lock file f, 0 when there is none.
func readPID(f *os.File) int {
	b := make([]byte, 32)
	n, err := f.ReadAt(b, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
