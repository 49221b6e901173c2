package sketch

// Set is the group of sketches one frame feeds, e.g. the current minute,
// hour, day, week, month and year windows: the uid is hashed once and the
// hash inserted into each. Nil entries are skipped, so a caller can keep a
// fixed-size Set and leave granularities it does not count empty.
type Set []*Sketch

// InsertHash inserts h into every sketch of the set.
func (ss Set) InsertHash(h uint64) {
	for _, s := range ss {
		if s != nil {
			s.InsertHash(h)
		}
	}
}

// Insert hashes uid once and inserts it into every sketch of the set.
func (ss Set) Insert(uid []byte) { ss.InsertHash(Hash(uid)) }
