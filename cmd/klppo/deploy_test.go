package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestDeployExamplesMatchTheCLI keeps the cluster examples of docs/cluster.md working: every
// flag their klppo command lines use exists, and the Indexed Job's completions, parallelism and
// SHARDS agree.
func TestDeployExamplesMatchTheCLI(t *testing.T) {
	flagsOf := func(cmd ...string) map[string]bool {
		_, _, help := runCmd(append(cmd, "-h")...)
		m := map[string]bool{}
		for _, f := range regexp.MustCompile(`(?m)^  -([a-z-]+)`).FindAllStringSubmatch(help, -1) {
			m[f[1]] = true
		}
		if !m["out"] {
			t.Fatalf("klppo %v -h lists no -out flag:\n%s", cmd, help)
		}
		return m
	}
	known := map[string]map[string]bool{"compare": flagsOf("compare"), "merge": flagsOf("compare", "merge")}
	files := []string{"slurm/compare.sbatch", "slurm/merge.sbatch", "k8s/compare-job.yaml", "k8s/merge-job.yaml"}
	uses := 0
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("..", "..", "deploy", f))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			i := strings.Index(line, `compare `)
			if i < 0 || !strings.Contains(line, "exec ") && !strings.Contains(line, "args=(") {
				continue
			}
			cmd := "compare"
			if strings.Contains(line, "compare merge") {
				cmd = "merge"
			}
			uses++
			for _, m := range regexp.MustCompile(`(?:^|[\s("])--([a-z-]+)`).FindAllStringSubmatch(line[i:], -1) {
				if !known[cmd][m[1]] {
					t.Errorf("%s: klppo %s has no flag --%s: %s", f, cmd, m[1], strings.TrimSpace(line))
				}
			}
		}
	}
	if uses != 4 {
		t.Fatalf("found %d klppo command lines in the deploy examples, want 4", uses)
	}

	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "k8s", "compare-job.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var job struct {
		Kind string
		Spec struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int
			Parallelism    int
			Template       struct {
				Spec struct {
					Containers []struct {
						Env []struct{ Name, Value string }
					}
				}
			}
		}
	}
	for job.Kind != "Job" {
		if err := dec.Decode(&job); err != nil {
			t.Fatalf("compare-job.yaml: no Job: %v", err)
		}
	}
	shards := ""
	for _, e := range job.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "SHARDS" {
			shards = e.Value
		}
	}
	if job.Spec.CompletionMode != "Indexed" || job.Spec.Completions != job.Spec.Parallelism || shards != "4" || job.Spec.Completions != 4 {
		t.Fatalf("compare-job.yaml: completionMode %q, completions %d, parallelism %d, SHARDS %q; want Indexed, 4, 4, 4",
			job.Spec.CompletionMode, job.Spec.Completions, job.Spec.Parallelism, shards)
	}
}
