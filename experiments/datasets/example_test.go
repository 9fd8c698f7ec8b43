package datasets_test

import (
	"fmt"
	"strings"

	"klppo/experiments/datasets"
)

// A clean, centred 8×8 glyph drawn as text.
func ExampleGlyphs() {
	s, err := datasets.Glyphs(datasets.GlyphConfig{Size: 8, Train: 10, Test: 1, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, y := range s.Train.Y {
		if y != 4 {
			continue
		}
		row := s.Train.Row(i)
		for r := 0; r < 8; r++ {
			var b strings.Builder
			for c := 0; c < 8; c++ {
				if row[r*8+c] > 0 {
					b.WriteByte('#')
				} else {
					b.WriteByte('.')
				}
			}
			fmt.Println(b.String())
		}
	}
	// Output:
	// ....#...
	// ...##...
	// ..#.#...
	// .#..#...
	// .#####..
	// ....#...
	// ....#...
	// ........
}
