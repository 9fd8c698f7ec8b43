// Package nn is klppo's small neural-network layer on gorgonia: seeded orthogonal initialisation, MLPs whose weight tensors are shared by gorgonia training graphs and a fast plain-Go forward pass, our own checkpointable Adam, global gradient-norm clipping and a checksummed parameter file format.
package nn
