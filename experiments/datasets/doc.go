// Package datasets generates small built-in datasets that need no download: noisy digit glyphs rendered from an embedded bitmap font, and a 2-D ring of Gaussians, both deterministic for a seed.
package datasets
