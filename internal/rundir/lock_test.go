package rundir

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// lockSupported: Lock is a real lock on these builds (lock_unix.go).
var lockSupported = runtime.GOOS != "windows" && runtime.GOOS != "js" && runtime.GOOS != "wasip1" &&
	runtime.GOOS != "plan9" && runtime.GOOS != "aix"

func TestLock(t *testing.T) {
	if !lockSupported {
		t.Skipf("Lock is a no-op on %s (no flock)", runtime.GOOS)
	}
	dir := t.TempDir()
	unlock, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, LockFile))
	if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock file holds %q, %v: want this process's id %d", b, err, os.Getpid())
	}
	// A second Lock opens the file again (a second open file description): refused at once.
	_, err = Lock(dir)
	var le *LockedError
	if !errors.Is(err, ErrLocked) || !errors.As(err, &le) || le.Dir != dir || le.PID != os.Getpid() {
		t.Fatalf("second Lock: %v, want a LockedError naming %s and pid %d", err, dir, os.Getpid())
	}
	if msg := err.Error(); !strings.Contains(msg, dir) || !strings.Contains(msg, fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("message %q names neither the directory nor the holder", msg)
	}
	// The lock file does not make the directory hold a run.
	if err := Check(dir); err != nil {
		t.Errorf("Check of a locked directory without a run: %v", err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if err := unlock(); err != nil { // a second call returns the first one's result
		t.Errorf("second unlock: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, LockFile)); err != nil || len(b) != 0 {
		t.Errorf("after unlock the lock file holds %q, %v: want it empty", b, err)
	}
	unlock2, err := Lock(dir)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	// Locks are per directory: a run inside a locked directory locks its own.
	sub := filepath.Join(dir, "seed-1")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	unlockSub, err := Lock(sub)
	if err != nil {
		t.Fatalf("Lock of a directory inside a locked one: %v", err)
	}
	if err := errors.Join(unlockSub(), unlock2()); err != nil {
		t.Fatal(err)
	}
}

func TestLockErrors(t *testing.T) {
	root := t.TempDir()
	if _, err := Lock(""); !errors.Is(err, ErrEmptyPath) {
		t.Errorf(`Lock(""): %v`, err)
	}
	absent := filepath.Join(root, "absent")
	if _, err := Lock(absent); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("absent directory: %v", err)
	}
	if _, err := os.Stat(absent); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Lock created %s: %v", absent, err)
	}
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(file); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file: %v", err)
	}
	if _, err := CreateLocked(filepath.Join(file, "run")); err == nil {
		t.Error("CreateLocked under a file: no error")
	}
	nested := filepath.Join(root, "new", "run")
	unlock, err := CreateLocked(nested)
	if err != nil {
		t.Fatalf("CreateLocked of a new directory: %v", err)
	}
	if _, err := Lock(nested); lockSupported && !errors.Is(err, ErrLocked) {
		t.Errorf("CreateLocked did not lock %s: %v", nested, err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if !lockSupported {
		return
	}
	// A symbolic link in place of the lock file is not followed (the lock would truncate its target).
	link := filepath.Join(root, "link")
	if err := os.Mkdir(link, 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(root, "precious")
	if err := os.WriteFile(target, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(link, LockFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(link); err == nil || errors.Is(err, ErrLocked) {
		t.Errorf("lock file is a link: %v, want an error", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "data" {
		t.Errorf("the link's target now holds %q", b)
	}
}

func TestLockFileIsNotAMarker(t *testing.T) {
	if slices.Contains(Markers, LockFile) {
		t.Errorf("Markers %v list %s: every locked directory would hold a run", Markers, LockFile)
	}
}

// lockChildEnv makes the test binary a helper process: it locks the directory named by the
// variable, prints "locked", and exits when its stdin closes.
const lockChildEnv = "KLPPO_RUNDIR_LOCK_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(lockChildEnv); dir != "" {
		unlock, err := Lock(dir)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(3)
		}
		fmt.Println("locked")
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin
		_ = unlock
		os.Exit(0) // without unlocking: the OS releases the lock of a process that ends
	}
	os.Exit(m.Run())
}

// TestLockOtherProcess locks a directory in a second process: Lock here fails naming its pid
// until that process ends (without unlocking), then succeeds.
func TestLockOtherProcess(t *testing.T) {
	if !lockSupported {
		t.Skipf("Lock is a no-op on %s (no flock): nothing to test across processes", runtime.GOOS)
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lockChildEnv+"="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("child: %q, %v", line, err)
	}
	_, err = Lock(dir)
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) || le.PID != cmd.Process.Pid {
		t.Fatalf("Lock while another process holds it: %v, want a LockedError naming pid %d", err, cmd.Process.Pid)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	unlock, err := Lock(dir)
	if err != nil {
		t.Fatalf("Lock after the holder exited: %v", err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
}
