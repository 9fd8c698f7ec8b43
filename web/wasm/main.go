//go:build js && wasm

// Command wasm is the WebAssembly half of `klppo serve`: it exposes the explainer pages of
// package explain (and through them package kl) to the browser as the global object klppo.
//
//	klppo.compute(slug, query) → JSON string: {"view": …} or {"error": "…"}
//	klppo.kl.bernoulli(p, q)   → KL(P‖Q) in nats (the number `klppo kl bernoulli` prints)
//	klppo.kl.normal(μp, σp, μq, σq), klppo.kl.categorical([p…], [q…]), klppo.kl.js([p…], [q…])
//
// Built by `go generate ./web` into web/site/static/klppo.wasm (see web/internal/buildwasm).
package main

import (
	"encoding/json"
	"syscall/js"

	"klppo/kl"
	"klppo/web/explain"
)

func main() {
	api := js.Global().Get("Object").New()
	api.Set("compute", js.FuncOf(compute))
	k := js.Global().Get("Object").New()
	k.Set("bernoulli", js.FuncOf(func(_ js.Value, a []js.Value) any {
		return result(kl.Bernoulli{P: arg(a, 0)}.KL(kl.Bernoulli{P: arg(a, 1)}))
	}))
	k.Set("normal", js.FuncOf(func(_ js.Value, a []js.Value) any {
		return result(kl.Normal{Mu: arg(a, 0), Sigma: arg(a, 1)}.KL(kl.Normal{Mu: arg(a, 2), Sigma: arg(a, 3)}))
	}))
	k.Set("categorical", js.FuncOf(func(_ js.Value, a []js.Value) any { return result(kl.KL(floats(a, 0), floats(a, 1))) }))
	k.Set("js", js.FuncOf(func(_ js.Value, a []js.Value) any { return result(kl.JS(floats(a, 0), floats(a, 1))) }))
	api.Set("kl", k)
	js.Global().Set("klppo", api)
	if ready := js.Global().Get("klppoReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {} // keep the exported functions alive
}

// compute(slug, query) runs one explainer page.
func compute(_ js.Value, a []js.Value) any {
	if len(a) != 2 {
		return errJSON("compute(slug, query): want 2 arguments")
	}
	p, ok := explain.Lookup(a[0].String())
	if !ok {
		return errJSON("no explainer page " + a[0].String())
	}
	given, err := explain.ParseQuery(a[1].String())
	if err != nil {
		return errJSON(err.Error())
	}
	v, err := p.Run(given)
	if err != nil {
		return errJSON(err.Error())
	}
	b, err := json.Marshal(struct {
		View explain.View `json:"view"`
	}{v})
	if err != nil {
		return errJSON(err.Error())
	}
	return string(b)
}

func errJSON(msg string) string {
	b, err := json.Marshal(map[string]string{"error": msg})
	if err != nil {
		return `{"error":"internal error"}`
	}
	return string(b)
}

func arg(a []js.Value, i int) float64 {
	if i >= len(a) || a[i].Type() != js.TypeNumber {
		return js.Global().Get("NaN").Float()
	}
	return a[i].Float()
}

func floats(a []js.Value, i int) []float64 {
	if i >= len(a) || a[i].Type() != js.TypeObject {
		return nil
	}
	n := a[i].Length()
	out := make([]float64, n)
	for j := range out {
		out[j] = a[i].Index(j).Float()
	}
	return out
}

// result returns the value, or an Error for a kl error (JavaScript sees a thrown-like object).
func result(v float64, err error) any {
	if err != nil {
		return js.Global().Get("Error").New(err.Error())
	}
	return v
}
