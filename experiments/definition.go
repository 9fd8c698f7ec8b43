package experiments

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"klppo/internal/fileio"
)

// Definition is one named experiment: a set of penalty settings compared on one environment over
// several seeds. Definitions are data: the built-in ones are the YAML files under defs/ (embedded in
// the binary) and users can load their own with LoadDefinitionFile (YAML or JSON, same field names).
type Definition struct {
	// Name identifies the experiment (lower case letters, digits and '-', e.g. "table1-cartpole").
	Name string `yaml:"name" json:"name"`
	// Description is one or two sentences shown by `klppo compare --list`.
	Description string `yaml:"description" json:"description"`
	// Env is the environment id, e.g. "CartPole-v1".
	Env string `yaml:"env" json:"env"`
	// Penalties are the penalty specs compared, in table order ("none", "clip:0.2", "kl-fixed:1",
	// "kl-adaptive:0.01", "kl-prop:0.01", any of them + "+stop:KL").
	Penalties []string `yaml:"penalties" json:"penalties"`
	// Seeds is the number of seeds per setting; the runs use seeds 1, 2, …, Seeds.
	Seeds int `yaml:"seeds" json:"seeds"`
	// Steps is the training budget of every run, in environment steps.
	Steps int `yaml:"steps" json:"steps"`
	// Overrides sets training hyperparameters on top of the environment's defaults, keyed by the
	// snake_case names of the training config (config.json), e.g. {num_envs: 4, learning_rate: 3e-4}.
	Overrides map[string]any `yaml:"overrides,omitempty" json:"overrides,omitempty"`
	// RandomEpisodes is how many episodes of a uniform-random policy measure the random return used
	// by the normalised score (0 means DefaultRandomEpisodes).
	RandomEpisodes int `yaml:"random_episodes,omitempty" json:"random_episodes,omitempty"`
}

// DefaultRandomEpisodes is the number of uniform-random episodes that measure the random return.
const DefaultRandomEpisodes = 100

//go:embed defs/*.yaml
var builtinFS embed.FS

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// Validate checks the definition's fields; an error names the field and the value. Whether the env
// id and the penalty specs are known is checked by the Runner (see Runner.Prepare).
func (d Definition) Validate() error {
	if !nameRE.MatchString(d.Name) {
		return fmt.Errorf("experiment: field name: %q must be lower-case letters, digits, '.', '_' or '-'", d.Name)
	}
	where := fmt.Sprintf("experiment %q", d.Name)
	if strings.TrimSpace(d.Env) == "" {
		return fmt.Errorf("%s: field env: missing", where)
	}
	if len(d.Penalties) == 0 {
		return fmt.Errorf("%s: field penalties: empty, give at least one penalty spec", where)
	}
	seen := map[string]int{}
	for i, p := range d.Penalties {
		if strings.TrimSpace(p) == "" {
			return fmt.Errorf("%s: field penalties[%d]: empty spec", where, i)
		}
		if j, dup := seen[p]; dup {
			return fmt.Errorf("%s: field penalties[%d]: %q repeats penalties[%d]", where, i, p, j)
		}
		seen[p] = i
	}
	if d.Seeds < 1 {
		return fmt.Errorf("%s: field seeds: %d, must be ≥ 1", where, d.Seeds)
	}
	if err := checkRunCount(len(d.Penalties), d.Seeds); err != nil {
		return fmt.Errorf("%s: field %w", where, err)
	}
	if d.Steps < 1 {
		return fmt.Errorf("%s: field steps: %d, must be ≥ 1", where, d.Steps)
	}
	if d.RandomEpisodes < 0 {
		return fmt.Errorf("%s: field random_episodes: %d, must be ≥ 0", where, d.RandomEpisodes)
	}
	return nil
}

// ParseDefinition decodes one definition from YAML or JSON (JSON is valid YAML) and validates it.
// Unknown fields are errors, so a misspelt field name is reported rather than ignored.
func ParseDefinition(data []byte) (Definition, error) {
	var d Definition
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&d); err != nil {
		if errors.Is(err, io.EOF) {
			return Definition{}, fmt.Errorf("experiment: empty definition")
		}
		return Definition{}, fmt.Errorf("experiment: %w", err)
	}
	if err := d.Validate(); err != nil {
		return Definition{}, err
	}
	return d, nil
}

// LoadDefinitionFile reads a user's definition from a YAML or JSON file.
func LoadDefinitionFile(file string) (Definition, error) {
	data, err := fileio.ReadFile(file, fileio.SmallFile)
	if err != nil {
		return Definition{}, fmt.Errorf("experiment file: %w", err)
	}
	d, err := ParseDefinition(data)
	if err != nil {
		return Definition{}, fmt.Errorf("%s: %w", file, err)
	}
	return d, nil
}

// Builtin returns the embedded definitions sorted by name.
func Builtin() ([]Definition, error) {
	entries, err := fs.ReadDir(builtinFS, "defs")
	if err != nil {
		return nil, fmt.Errorf("experiments: reading embedded definitions: %w", err)
	}
	var defs []Definition
	names := map[string]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		p := path.Join("defs", e.Name())
		data, err := builtinFS.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("experiments: %s: %w", p, err)
		}
		d, err := ParseDefinition(data)
		if err != nil {
			return nil, fmt.Errorf("experiments: %s: %w", p, err)
		}
		if other, dup := names[d.Name]; dup {
			return nil, fmt.Errorf("experiments: %s and %s both define %q", other, p, d.Name)
		}
		names[d.Name] = p
		defs = append(defs, d)
	}
	sort.Slice(defs, func(i, j int) bool { return defs[i].Name < defs[j].Name })
	return defs, nil
}

// Lookup returns the embedded definition called name; the error for an unknown name lists the known ones.
func Lookup(name string) (Definition, error) {
	defs, err := Builtin()
	if err != nil {
		return Definition{}, err
	}
	var known []string
	for _, d := range defs {
		if d.Name == name {
			return d, nil
		}
		known = append(known, d.Name)
	}
	return Definition{}, fmt.Errorf("experiment %q: unknown (built-in: %s)", name, strings.Join(known, ", "))
}
