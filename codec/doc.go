// Package codec turns bytes into kuniq's values and back: input frames into
// Frame, and (in their own files) the sketch wire format and the user-facing
// records (results, dead letters) into the bytes Kafka stores. The records
// the two pipeline stages exchange live with the code that enforces them, in
// package processor (records.go).
//
// Our package shares its name with github.com/lovoo/goka/codec. kuniq never
// uses Goka's codecs, so a file never needs to import both; where one must,
// import Goka's as gokacodec.
//
// # Frames
//
// A frame is one JSON object per line. FrameDecoder extracts the uid and the ts in a single
// allocation-free pass that validates the whole line. Where they are is a FrameConfig: by
// default the root keys "uid" and "ts", in unix seconds; a field may be any root key or a
// dotted path into nested objects ("user.id"; ParseField says how a key holding a dot is
// written: `a\.b`), and the ts may count seconds, milliseconds, microseconds or nanoseconds.
// The contract is the standard library's: a line is valid exactly when
//
//	d := json.NewDecoder(bytes.NewReader(line))
//	d.UseNumber()
//	var m map[string]any
//	err := d.Decode(&m)
//
// succeeds with nothing but JSON whitespace after the value (that is, what json.Unmarshal
// accepts), the root is an object, and the values the two paths lead to in m (each key of a
// path looked up in the map[string]any the previous one led to) are a uid and a ts:
//
//   - The uid is a non-empty string, or an integer: a json.Number without fraction or
//     exponent, which counts as its decimal text, so the number 42 and the string "42" are
//     one user (-0 is "0"; integers of any length are kept exactly, as text). A number with
//     a fraction or an exponent (1.5, 42.0, 1e3) is a bad uid: an id is exact, and a
//     producer writing 42.0 or 1e3 has already lost that.
//   - The ts is a json.Number, or a string of ASCII digits ("1468244384"; leading zeros
//     allowed; no sign, space, fraction or exponent). Its value in the configured unit is
//     converted to unix seconds, truncated toward zero, and must lie in [MinTS, MaxTS].
//     Integers and digit strings are converted exactly, whatever their length (a
//     nanosecond ts beyond int64 is fine); a number with a fraction or exponent is parsed
//     with strconv.ParseFloat (as json.Number.Float64 does), divided by the unit and
//     truncated, so "-0.5" seconds is 0 and digits beyond float64's precision round first.
//
// From that follow the rules that bite:
//
//   - Paths are anchored at the root. Nested objects carry decoy "uid" and "ts" keys in the
//     challenge data; they are validated and ignored (and a path "user.id" ignores a root
//     "id" or a "user.id" key, which is the key with a dot, `user\.id`).
//   - Duplicate keys: the last one wins at every level, also when it has the wrong type
//     ({"uid":"a","uid":true} has a bad uid), and a later duplicate of an object on the way
//     replaces the whole object ({"user":{"id":"a"},"user":{}} has no uid).
//   - A path that leads nowhere is a missing field: no_uid or no_ts when a key is missing or
//     a value on the way is not an object ({"user":"bob"} has no user.id).
//   - Keys match exactly after unescaping: "UID" is not uid, "\u0075id" is.
//   - A string uid is encoding/json's string: escapes decoded, surrogate pairs joined, lone
//     surrogates and invalid UTF-8 replaced by U+FFFD.
//   - Nesting deeper than encoding/json's limit of 10000 is a syntax error.
//
// When several things are wrong with a line, the error reports the first of: syntax (the
// whole line is scanned before anything else is judged), then the uid (ErrNoUID, ErrBadUID),
// then the ts (ErrNoTS, ErrBadTS, ErrTSRange). Reason maps an error to the short stable
// string the dead-letter records use.
//
// # How Decode works
//
// A first pass runs over the line in 64-byte blocks and turns each into bitmaps: quotes,
// backslashes, control bytes (SWAR words in the default build; in a GOEXPERIMENT=simd build
// on amd64, AVX-512 compares over the whole block, or AVX2 over its halves, whichever the
// CPU has). Word arithmetic resolves which bytes are escaped, the
// parity of the real quotes marks the bytes inside strings, escapes and control bytes are
// validated per block, and the real quotes are listed; the grammar scanner, one state
// machine, then reads only the bytes outside strings and takes each string's end from the
// list (frame_block.go, frame_scan.go). In a GOEXPERIMENT=simd build on an AVX2 or AVX-512 CPU, a
// configuration with root keys only goes first through a structural scanner that checks the
// whole grammar on bitmaps and skips nested values whole, their brackets only counted
// (frame_fast_simd.go); what it does not accept it hands to the general scanner, which
// judges and words the error. Both are fuzzed against encoding/json and against each other.
package codec
