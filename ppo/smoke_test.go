package ppo

import (
	"context"
	"testing"
)

func TestSmokeTrain(t *testing.T) {
	cfg, err := DefaultConfig("CartPole-v1")
	if err != nil {
		t.Fatal(err)
	}
	cfg.TotalTimesteps = 20480
	dir := t.TempDir()
	s, err := Train(context.Background(), cfg, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", s)
}
