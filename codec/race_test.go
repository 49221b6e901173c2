//go:build race

package codec

// raceEnabled scales the generated cross-checks down under the race detector, which makes
// them ~10x slower and adds nothing to a single-goroutine decoder.
const raceEnabled = true
