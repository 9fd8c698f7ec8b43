package explain_test

import (
	"fmt"

	"klppo/web/explain"
)

// The coin page at /explain/coin/?p=0.7&q=0.5: its headline numbers, printed as `klppo kl
// bernoulli --p 0.7 --q 0.5` prints them.
func ExamplePage_Run() {
	page, _ := explain.Lookup("coin")
	given, err := explain.ParseQuery("p=0.7&q=0.5")
	if err != nil {
		fmt.Println(err)
		return
	}
	view, err := page.Run(given)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, v := range view.Values[:2] {
		fmt.Printf("%s = %s nats (%s bits)\n", v.Label, v.Text, v.Bits)
	}
	fmt.Println(view.Command)
	// Output:
	// KL(P‖Q) = 0.0822829 nats (0.118709 bits)
	// KL(Q‖P) = 0.0871767 nats (0.125769 bits)
	// klppo kl bernoulli --p 0.7 --q 0.5
}
