// Command klppo is the command-line interface of the klppo toolkit: run 'klppo help' for its
// commands ('klppo' alone prints them too, with exit status 2, like any incomplete command line;
// 'klppo version' prints the build).
//
// Every subcommand maps flags to library calls: the libraries validate (and estimate the memory
// a run needs before allocating it), and the CLI names the flag of a refused value and exits 2.
// Ctrl-C or SIGTERM asks a command to stop cleanly (files flushed, checkpoints written); a second
// one ends the process at once.
package main
