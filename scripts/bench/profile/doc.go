// Package profile runs `kuniq count`'s engine (engine.Read decoding on all cores, feeding an
// engine.Counter, as cmd/kuniq's count does) as a benchmark, so that
//
//	go test -run '^$' -bench Count -cpuprofile cpu.out ./scripts/bench/profile/
//	go tool pprof -top -cum cpu.out
//
// shows where count's time goes, and above all the JSON parser's share
// (codec.(*FrameDecoder).Decode) without touching cmd/. The input is generator frames
// (gen, seed 1, the challenge's shape) held in memory, so the file system is not measured.
// With GOEXPERIMENT=simd in front of `go test` the profile is of the SIMD build (AVX-512 or AVX2), whose
// decoder runs codec.(*FrameDecoder).scanFast (docs/performance.md §1-§2).
package profile
