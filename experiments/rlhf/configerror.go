package rlhf

import "fmt"

// ConfigError names the invalid field of a configuration, so that a caller (the klppo CLI) can
// name the flag that set it. Field is the field's path as config.json spells it ("grpo.group",
// "rloo.kl_coef", "betas", …).
type ConfigError struct {
	Field  string
	Value  any    // the offending value
	Reason string // what is wrong and what is wanted
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("rlhf: %s = %v: %s", e.Field, e.Value, e.Reason)
}

// bad returns a *ConfigError.
func bad(field string, value any, format string, a ...any) error {
	return &ConfigError{Field: field, Value: value, Reason: fmt.Sprintf(format, a...)}
}
