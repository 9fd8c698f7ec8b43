package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

func init() {
	register("version", "print the build: module version, VCS revision and time, Go version, platform", runVersion)
}

// buildInfo is debug.ReadBuildInfo (tests replace it).
var buildInfo = debug.ReadBuildInfo

// versionText describes the running binary from its build information: the main module's
// version ("(devel)" for a build from a checkout), the VCS revision, time and whether the work
// tree had uncommitted changes (when the build recorded them, see go help buildflags, -buildvcs),
// and the Go version.
func versionText() string {
	bi, ok := buildInfo()
	if !ok {
		return fmt.Sprintf("klppo (no build information) %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	s := fmt.Sprintf("klppo %s", version)
	if rev := settings["vcs.revision"]; rev != "" {
		s += " revision " + rev
		if settings["vcs.modified"] == "true" {
			s += " (modified)"
		}
		if t := settings["vcs.time"]; t != "" {
			s += " committed " + t
		}
	} else {
		s += " (no VCS revision recorded in this build: see 'go help buildflags', -buildvcs)"
	}
	return s + fmt.Sprintf("\n%s %s/%s\n", bi.GoVersion, runtime.GOOS, runtime.GOARCH)
}

func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", "", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	_, err := io.WriteString(stdout, versionText())
	return err
}
