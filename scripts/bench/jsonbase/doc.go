// Command jsonbase is the baseline `kuniq count` is compared with: what a Go programmer writes
// first. It reads frames line by line on one goroutine, decodes each with encoding/json into
// struct{TS json.Number; UID string}, and counts exact unique uids per minute in maps. It does
// not handle disorder, lateness, bit flips or decoy keys the way kuniq does (encoding/json
// even matches "UID" case-insensitively); it only prices the obvious approach.
//
// The last line is machine-readable: "RESULT frames=N bytes=B secs=S minutes=M".
package main
