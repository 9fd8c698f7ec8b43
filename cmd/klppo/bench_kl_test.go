package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestBenchKLJSON(t *testing.T) {
	for _, dtype := range []string{"float32", "float64"} {
		var out, errb bytes.Buffer
		code := run([]string{"bench", "kl", "--batch", "3", "--vocab", "1000", "--dtype", dtype, "--repeat", "2", "--warmup", "1", "--json"}, &out, &errb)
		if code != 0 {
			t.Fatalf("%s: exit %d, stderr %q", dtype, code, errb.String())
		}
		var res map[string]any
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatalf("%s: %v in %q", dtype, err, out.String())
		}
		for _, k := range []string{"batch", "vocab", "dtype", "ms_per_call", "repeats", "threads"} {
			if _, ok := res[k]; !ok {
				t.Errorf("%s: JSON lacks %q: %s", dtype, k, out.String())
			}
		}
		if res["batch"] != 3.0 || res["vocab"] != 1000.0 || res["dtype"] != dtype || res["repeats"] != 2.0 {
			t.Errorf("%s: JSON %s does not echo the flags", dtype, out.String())
		}
		if ms, _ := res["ms_per_call"].(float64); !(ms > 0) {
			t.Errorf("%s: ms_per_call = %v, want > 0", dtype, res["ms_per_call"])
		}
		// random logits with σ = 2: KL between two independent rows is a few nats
		if kl, _ := res["mean_kl"].(float64); !(kl > 1 && kl < 10) {
			t.Errorf("%s: mean_kl = %v, want a few nats", dtype, res["mean_kl"])
		}
	}
}

func TestBenchKLText(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"bench", "kl", "--batch", "2", "--vocab", "64", "--repeat", "1"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	if !strings.Contains(out.String(), "ms_per_call ") {
		t.Errorf("output lacks ms_per_call: %q", out.String())
	}
}

func TestBenchKLBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		flag string
	}{
		{[]string{"--batch", "0"}, "--batch"},
		{[]string{"--vocab", "-3"}, "--vocab"},
		{[]string{"--dtype", "float16"}, "--dtype"},
		{[]string{"--repeat", "0"}, "--repeat"},
		{[]string{"--warmup", "-1"}, "--warmup"},
		{[]string{"--threads", "-2"}, "--threads"},
		{[]string{"--batch", "100000", "--vocab", "100000"}, "--batch"},
		{[]string{"--batch", "x"}, "-batch"},
		{[]string{"--bogus"}, "bogus"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := run(append([]string{"bench", "kl"}, tt.args...), &out, &errb)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2", tt.args, code)
		}
		if !strings.Contains(errb.String(), tt.flag) {
			t.Errorf("%v: stderr %q does not name %s", tt.args, errb.String(), tt.flag)
		}
	}
}
