package fileio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Size limits for the kinds of file klppo reads. They are far above what any klppo command
// writes, and far below what would hurt a machine.
const (
	// SmallFile bounds JSON and YAML documents: configs, summaries, sweep descriptions.
	SmallFile int64 = 16 << 20
	// LargeFile bounds data files: metrics.csv, episodes.csv, model files, vectors from @FILE.
	LargeFile int64 = 1 << 30
)

// ErrTooLarge is wrapped by the errors of ReadFile and ReadAll for inputs over their limit.
var ErrTooLarge = errors.New("too large")

// ErrNotRegular is wrapped by ReadFile's error for a path that is not a regular file (a
// directory, FIFO, socket or device).
var ErrNotRegular = errors.New("not a regular file")

// ReadFile reads the regular file at path, at most limit bytes. It refuses a path that is not
// a regular file before opening it (opening a FIFO would block) and a file larger than limit;
// the errors name the path and wrap ErrNotRegular or ErrTooLarge.
func ReadFile(path string, limit int64) ([]byte, error) {
	return readRegular(path, limit, func() (fs.FileInfo, error) { return os.Stat(path) },
		func() (fs.File, error) { return os.OpenFile(path, os.O_RDONLY, 0) })
}

// ReadFileFS is ReadFile for the file name in fsys, e.g. the FS of an os.Root, which keeps every
// read inside one directory.
func ReadFileFS(fsys fs.FS, name string, limit int64) ([]byte, error) {
	return readRegular(name, limit, func() (fs.FileInfo, error) { return fs.Stat(fsys, name) },
		func() (fs.File, error) { return fsys.Open(name) })
}

// readRegular reads the file called name through stat and open: it refuses what is not a
// regular file before opening it and again on the open file (the path may have been replaced
// since the stat), and a file larger than limit.
func readRegular(name string, limit int64, stat func() (fs.FileInfo, error), open func() (fs.File, error)) ([]byte, error) {
	fi, err := stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w (%s)", name, ErrNotRegular, kindOf(fi.Mode()))
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s: %w: %d bytes, more than the %d this file may have", name, ErrTooLarge, fi.Size(), limit)
	}
	f, err := open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w (%s)", name, ErrNotRegular, kindOf(fi.Mode()))
	}
	data, err := ReadAll(f, limit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return data, nil
}

// ReadAll reads r to the end, at most limit bytes; more is an error wrapping ErrTooLarge (the
// reading stops there, so an endless stream costs limit+1 bytes of memory, not all of it).
func ReadAll(r io.Reader, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	return buf.Bytes(), nil
}

// kindOf names a non-regular file mode for an error message.
func kindOf(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0 || m&os.ModeCharDevice != 0:
		return "a device"
	case m&os.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "mode " + m.String()
}

// WriteAtomic writes data to path atomically (see WriteAtomicFunc).
func WriteAtomic(path string, data []byte) error {
	return WriteAtomicFunc(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteAtomicFunc creates path (mode 0644) with the bytes write writes, atomically: they go to
// a temporary file in path's directory, which is synced and renamed over path only when write
// and every file operation succeeded. On any error path is untouched and the temporary file is
// removed; the error names path.
func WriteAtomicFunc(path string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("write %s: %w", path, err)
		}
	}()
	if err = write(tmp); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
