// Package fileio is the one home of klppo's two file disciplines:
//
//   - writes that never leave a half-written file behind: WriteAtomic writes to a temporary file
//     in the same directory, syncs it and renames it over the target, so a reader (or a run
//     interrupted mid-write) sees the old file or the new one, never a mix;
//   - reads that cannot run away: ReadFile and ReadAll stop at a stated size and say so, and
//     ReadFile refuses what is not a regular file (a FIFO named metrics.csv would otherwise block
//     a reader forever, /dev/zero would fill the memory).
//
// Every command's output files and every user-supplied input go through here.
package fileio
