package esxi

import "time"

// SetSessionCheckInterval lets tests make the session check run on every
// operation instead of after a quiet minute.
func SetSessionCheckInterval(c *Client, d time.Duration) { c.checkEvery = d }

// NormaliseThumbprint exposes normaliseThumbprint to the tests.
var NormaliseThumbprint = normaliseThumbprint
