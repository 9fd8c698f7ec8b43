//go:build !unix || aix

package rundir

// Lock is documented in lock_unix.go. On this platform there is no flock: Lock only checks that
// dir is a directory, creates no LockFile, and its unlock does nothing — two processes can write
// one directory at the same time here.
func Lock(dir string) (unlock func() error, err error) {
	if dir == "" {
		return nil, ErrEmptyPath
	}
	if err := isDir(dir); err != nil {
		return nil, err
	}
	return func() error { return nil }, nil
}
