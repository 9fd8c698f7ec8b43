package ppo

import "fmt"

// GAE computes generalised advantage estimates in place for a rollout of T steps of N envs,
// stored time-major (index t·N+i).
//
// For step t of env i with value V_t and next value V':
//
//	V' = 0                       if the step terminated the episode,
//	V' = finalValues[t·N+i]      if it was truncated (value of the episode's last observation),
//	V' = V_{t+1} (lastValues[i] for t = T−1) otherwise;
//	δ_t = r_t + γ·V' − V_t
//	A_t = δ_t + γλ·A_{t+1}·[episode continues]
//
// and returns = A + V. adv and returns must have length T·N.
func GAE(rewards, values []float64, terminated, truncated []bool, finalValues, lastValues []float64,
	n int, gamma, lambda float64, adv, returns []float64) error {
	tn := len(rewards)
	if n <= 0 || tn%n != 0 {
		return fmt.Errorf("gae: %d rewards is not a multiple of num_envs %d", tn, n)
	}
	for name, l := range map[string]int{"values": len(values), "terminated": len(terminated), "truncated": len(truncated),
		"finalValues": len(finalValues), "adv": len(adv), "returns": len(returns)} {
		if l != tn {
			return fmt.Errorf("gae: len(%s) = %d, want %d", name, l, tn)
		}
	}
	if len(lastValues) != n {
		return fmt.Errorf("gae: len(lastValues) = %d, want %d", len(lastValues), n)
	}
	T := tn / n
	for i := 0; i < n; i++ {
		last := 0.0
		for t := T - 1; t >= 0; t-- {
			k := t*n + i
			var next, cont float64
			switch {
			case terminated[k]:
				next, cont = 0, 0
			case truncated[k]:
				next, cont = finalValues[k], 0
			case t == T-1:
				next, cont = lastValues[i], 1
			default:
				next, cont = values[k+n], 1
			}
			delta := rewards[k] + gamma*next - values[k]
			last = delta + gamma*lambda*cont*last
			adv[k] = last
			returns[k] = last + values[k]
		}
	}
	return nil
}
