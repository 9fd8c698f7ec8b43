// Package env provides Gymnasium-compatible toy environments, vector environments and wrappers in pure Go.
package env
