// Command klppo is the command-line interface of the klppo toolkit: run 'klppo help' for its commands.
package main
