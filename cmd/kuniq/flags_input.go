package main

import (
	"fmt"

	"github.com/kuniq/kuniq/codec"
)

// inputFlags say how frames are written, for every command that decodes frames (count, run,
// replay): --input-format, and where a JSON frame keeps its uid and ts and in which unit the
// ts counts: --uid-field, --ts-field, --ts-unit.
type inputFlags struct {
	fieldFlags
	format *string
}

// fieldFlags are where a JSON frame keeps its uid and ts and the ts's unit: the input flags
// without the format, which ingest takes too (it reads JSON lines whatever it writes).
type fieldFlags struct {
	uidField, tsField, tsUnit *string
}

// addInputFlags defines --input-format and the field flags; formatNote and fieldNote, if not
// empty, are added to their help (what a command that does not count frames uses them for).
func addInputFlags(fs *flagSet, formatNote, fieldNote string) *inputFlags {
	return &inputFlags{
		format:     fs.String("input-format", codec.FormatJSON.String(), "how frames are written: json (a JSON object per line or record) or protobuf (message Frame of codec/frame.proto: one per record, plain or in Confluent's wire format; in a file or on stdin, a length-delimited stream as writeDelimitedTo writes it)"+formatNote),
		fieldFlags: addFieldFlags(fs, fieldNote),
	}
}

// addFieldFlags defines --uid-field, --ts-field and --ts-unit; note, if not empty, is added to
// the help of the two field flags.
func addFieldFlags(fs *flagSet, note string) fieldFlags {
	return fieldFlags{
		uidField: fs.String("uid-field", codec.DefaultUIDField, `where a JSON frame's uid is: a root key, or a dotted path into nested objects ("user.id"; write a dot inside a key as \.); a string, or an integer counted as its decimal text`+note),
		tsField:  fs.String("ts-field", codec.DefaultTSField, "where a JSON frame's ts is, as --uid-field: a number, or a string of digits"+note),
		tsUnit:   fs.String("ts-unit", "s", "unit of the ts, in every format: s, ms, us or ns (converted to unix seconds, truncated)"),
	}
}

// frameConfig is the decoder configuration the flags ask for.
func (f *inputFlags) frameConfig() (codec.FrameConfig, error) {
	format, err := codec.ParseFormat(*f.format)
	if err != nil {
		return codec.FrameConfig{}, fmt.Errorf("--input-format: %w", err)
	}
	if format == codec.FormatProtobuf {
		// Field numbers are fixed (ts = 1, uid = 2): a path asked for would be ignored.
		for _, fl := range []struct{ name, val, def string }{
			{"uid-field", *f.uidField, codec.DefaultUIDField},
			{"ts-field", *f.tsField, codec.DefaultTSField},
		} {
			if fl.val != fl.def {
				return codec.FrameConfig{}, fmt.Errorf("--%s %q applies to JSON input only: a protobuf frame keeps its ts in field 1 and its uid in field 2 of message Frame (codec/frame.proto); drop --%s (or %s) with --input-format protobuf",
					fl.name, fl.val, fl.name, envName(fl.name))
			}
		}
	}
	c, err := f.fieldFlags.frameConfig()
	c.Format = format
	if err != nil {
		return codec.FrameConfig{}, err
	}
	return c, c.Validate()
}

// frameConfig is the JSON decoder configuration the field flags ask for.
func (f fieldFlags) frameConfig() (codec.FrameConfig, error) {
	for _, p := range []*string{f.uidField, f.tsField} {
		if *p == "" { // FrameConfig reads "" as the default; a user who wrote it meant something
			_, err := codec.ParseField("")
			return codec.FrameConfig{}, err
		}
	}
	unit, err := codec.ParseTSUnit(*f.tsUnit)
	if err != nil {
		return codec.FrameConfig{}, err
	}
	c := codec.FrameConfig{UIDField: *f.uidField, TSField: *f.tsField, TSUnit: unit}
	return c, c.Validate()
}
