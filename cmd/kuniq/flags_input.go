package main

import (
	"github.com/kuniq/kuniq/codec"
)

// inputFlags say where a frame keeps its uid and ts, for every command that decodes frames
// (count, run, replay): --uid-field, --ts-field, --ts-unit.
type inputFlags struct {
	uidField, tsField, tsUnit *string
}

func addInputFlags(fs *flagSet) *inputFlags {
	return &inputFlags{
		uidField: fs.String("uid-field", codec.DefaultUIDField, `where a frame's uid is: a root key, or a dotted path into nested objects ("user.id"; write a dot inside a key as \.); a string, or an integer counted as its decimal text`),
		tsField:  fs.String("ts-field", codec.DefaultTSField, "where a frame's ts is, as --uid-field: a number, or a string of digits"),
		tsUnit:   fs.String("ts-unit", "s", "unit of the ts: s, ms, us or ns (converted to unix seconds, truncated)"),
	}
}

// frameConfig is the decoder configuration the flags ask for.
func (f *inputFlags) frameConfig() (codec.FrameConfig, error) {
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
