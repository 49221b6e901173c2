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
// Cost. A repeated user in a sparse sketch is two binary searches (axiomhq
// re-adds it to its temporary set and periodically rewrites the whole
// compressed list, 260–870 ns). Estimate on a dense sketch reads a
// histogram of register values kept up to date by inserts (axiomhq computes
// a math.Pow per register, ~1 ms at p = 14). Memory while sparse is 4 bytes
// per distinct user, at most about 2^p·2 bytes before the switch; dense is
// 2^p bytes. See bench_test.go.
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
// decoded estimates, never raw bytes. Floating point: estimates are
// reproducible on one architecture; an architecture that fuses multiply-adds
// differently (Go fuses on arm64, not on amd64) can differ in the last unit,
// exactly as axiomhq would.
package sketch
