package sketch

import metro "github.com/dgryski/go-metro"

// Hash returns the 64-bit hash axiomhq/hyperloglog's Insert uses for uid
// (MetroHash64, seed 1337), so InsertHash(Hash(uid)) is Insert(uid). It does
// not allocate. Callers that feed one uid into several sketches hash it once
// and pass the hash around (InsertHash).
func Hash(uid []byte) uint64 { return metro.Hash64(uid, hashSeed) }
