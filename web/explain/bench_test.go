package explain

import "testing"

// BenchmarkPages times one Compute per page at the slider extremes that cost the most
// (the browser test reports the same updates measured in Chromium, wasm + redraw).
func BenchmarkPages(b *testing.B) {
	for i := range Pages {
		p := &Pages[i]
		given := map[string]float64{}
		for _, pr := range p.Params {
			given[pr.Name] = pr.Max
		}
		b.Run(p.Slug, func(b *testing.B) {
			for b.Loop() {
				if _, err := p.Run(given); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
