// Package sketch counts distinct users with HyperLogLog: a thin, fast
// layer over github.com/axiomhq/hyperloglog v0.3.0 that keeps its hash,
// sparse encoding (pp = 25), 8-bit registers, LogLog-Beta estimator and wire
// format, and changes how the state is held.
//
// In: 64-bit hashes from Hash (MetroHash64, seed 1337, the hash axiomhq's
// Insert uses), or uids through Insert. Out: Estimate, an integer equal bit
// for bit to what axiomhq would report for the same hashes, and
// MarshalBinary bytes that axiomhq's UnmarshalBinary reads.
//
// # Guarantees
//
// Determinism. A Sketch's state is a function of the set of hashes inserted,
// nothing else: the sparse keys live in sorted slices, and the switch to
// dense registers happens exactly when their delta-varint stream outgrows
// 2^p bytes (axiomhq's own rule), checked after every mutation. So any split
// of the input into parts, in any order, with any duplication, through any
// number of marshal round trips, merged in any order, gives the same
// Estimate, also when the parts are sparse and their union is dense. The
// property tests prove it; it is what lets at-least-once delivery give
// exactly-once counts.
//
// Cost (go test -bench . ./sketch/, 2 shared cores, p = 14, against
// axiomhq directly): a new user in a sparse sketch ~200 ns by InsertHash (a
// merge into the sorted list every 128 new keys), ~19 ns through a Builder
// (InsertHashes: a batch radix-sorted and merged once, BenchmarkFill); a
// repeated user in a sparse sketch ~50 ns instead of ~530 ns (axiomhq
// re-adds it to its temporary set and rewrites the whole compressed list
// every 2^p/100 of them; here it is two binary searches); Estimate on a
// dense sketch ~150 ns instead of ~0.35–0.5 ms (axiomhq computes a math.Pow
// per register; here a histogram of register values, kept by inserts, is
// summed in at most 66 steps); hash once plus six dense inserts
// (BenchmarkInsertSix) ~33 ns. The price: marshaling a sparse sketch
// re-encodes its keys (~4 ns per key) where axiomhq copies its stream, and
// memory while sparse is up to 8 bytes per distinct user (sorted keys plus a
// reused merge buffer), ~60 KiB at p = 14 just before the switch, plus 4
// bytes per hash of the largest batch InsertHashes was given; dense is 2^p
// bytes.
//
// # Concurrency
//
// A Sketch is not safe for concurrent mutation. Estimate, MarshalBinary,
// AppendBinary, Clone, Precision, Sparse, and being the argument of another
// sketch's Merge only read the sketch, so any number of them may run at
// once, but none may overlap InsertHash, Insert, Merge (as receiver),
// UnmarshalBinary or Reset on the same sketch. (axiomhq's Estimate mutates
// sparse state; ours does not.)
//
// # Where it bites
//
// The encoding is not canonical across writers: axiomhq writes keys into a
// temporary set in map order, and a future version of ours may too. Compare
// decoded estimates, never raw bytes. Floating point: the Go spec lets a
// compiler fuse x*y+z, which it does on some targets (arm64, ppc64le,
// s390x, riscv64, amd64 at GOAMD64=v3) and not on others, so two machines of
// different kinds may disagree by one on an estimate, exactly as axiomhq
// would; one build always agrees with itself.
package sketch
