// Package atomicfile replaces a file so that a reader sees the old contents
// or the new, never a mix, and so that the new contents survive a crash
// once Write returns.
//
// It is the one place planetstage writes local files this way: the state
// directory (package secret), the lab's keys and known_hosts, the WAN
// relay's counters. Package remote keeps its own copy for Local.WriteFile,
// because remote imports nothing of ours.
package atomicfile
