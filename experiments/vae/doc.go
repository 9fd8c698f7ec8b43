// Package vae trains a small MLP variational auto-encoder whose loss is reconstruction + β·KL(q(z|x) ‖ N(0, I)), with the KL term built from kl's graph operations.
package vae
