package explain

// Pages lists the explainers in the order of the index. Each page is defined in its own file
// (coin.go, peaks.go, …): its text, sliders and links next to its Compute.
var Pages = []Page{
	coinPage,
	peaksPage,
	asymmetryPage,
	zerosPage,
	crossEntropyPage,
	compressionPage,
	abTestPage,
	anomalyPage,
	vaePage,
	distillationPage,
	ppoKLPage,
	rlhfPage,
	dpoPage,
	ganPage,
}
