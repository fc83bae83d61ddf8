// Command thesis reproduces the testbed of the 2019 Keio thesis on the
// local lab, or on real ESXi hosts.
package main

func main() {}
