package rundir_test

import (
	"fmt"
	"os"
	"path/filepath"

	"klppo/internal/rundir"
)

func ExampleCheck() {
	dir, err := os.MkdirTemp("", "rundir-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	fmt.Println("new directory:", rundir.Check(dir))
	// a training run leaves its metrics.csv behind
	if err := os.WriteFile(filepath.Join(dir, "metrics.csv"), []byte("update\n"), 0o644); err != nil {
		fmt.Println(err)
		return
	}
	err = rundir.Check(dir)
	fmt.Println("after a run:", rundir.HoldsRun(err), err.(*rundir.HoldsRunError).File)
	// Output:
	// new directory: <nil>
	// after a run: true metrics.csv
}

func ExampleWriteKind() {
	dir, err := os.MkdirTemp("", "rundir-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	if err := rundir.WriteKind(dir, rundir.KindRLHFRM); err != nil {
		fmt.Println(err)
		return
	}
	k, err := rundir.ReadKind(dir)
	fmt.Println(k, k.Known(), err)
	// Output:
	// rlhf-rm true <nil>
}
