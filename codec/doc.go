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
// A frame is one JSON object per line. FrameDecoder extracts the root-level
// "ts" and "uid" in a single allocation-free pass that validates the whole
// line. Its contract is the standard library's: a line is valid exactly when
//
//	d := json.NewDecoder(bytes.NewReader(line))
//	d.UseNumber()
//	var m map[string]any
//	err := d.Decode(&m)
//
// succeeds with nothing but JSON whitespace after the value (that is, what
// json.Unmarshal accepts), the root is an object, m["uid"] is a non-empty
// string and m["ts"] is a json.Number whose value, truncated toward zero, lies
// in [MinTS, MaxTS]. From that follow the rules that bite:
//
//   - Only root keys count. Nested objects carry decoy "uid" and "ts" keys in
//     the challenge data; they are validated and ignored.
//   - Duplicate root keys: the last one wins, also when it has the wrong type
//     ({"uid":"a","uid":1} has a bad uid).
//   - Keys match exactly after unescaping: "UID" is not uid, "\u0075id" is.
//   - The uid is encoding/json's string: escapes decoded, surrogate pairs
//     joined, lone surrogates and invalid UTF-8 replaced by U+FFFD.
//   - ts integers are parsed exactly; a ts with a fraction or exponent is
//     parsed with strconv.ParseFloat (as json.Number.Float64 does) and
//     truncated toward zero, so "-0.5" is 0 and digits beyond float64's
//     precision round first. Anything beyond the range, including int64 or
//     float64 overflow, is ErrTSRange.
//   - Nesting deeper than encoding/json's limit of 10000 is a syntax error.
//
// When several things are wrong with a line, the error reports the first of:
// syntax (the whole line is scanned before anything else is judged), then the
// uid (ErrNoUID, ErrBadUID), then the ts (ErrNoTS, ErrBadTS, ErrTSRange).
// Reason maps an error to the short stable string the dead-letter records use.
package codec
