// Package reach measures which machines of a testbed reach which, from
// inside them: every machine pings every other's address, and the result
// is a Matrix of ordered pairs with their round trip times, drawn like
// the thesis's tables 4.6 and 4.7.
//
// It needs nothing but a way to run a shell on each machine
// (remote.Runner), so the lab (through docker exec) and hardware (through
// SSH, hosts behind their routers) measure the same way and a check means
// the same in both.
package reach
