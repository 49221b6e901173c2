package codec

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// decodeCase is one table case; wantErr nil means the frame is valid.
type decodeCase struct {
	name    string
	line    string
	wantTS  int64
	wantUID string
	wantErr error
	cfg     FrameConfig // the zero value: root "uid" and "ts" in seconds
}

// decodeCases covers the contract rule by rule. They double as fuzz seeds.
var decodeCases = []decodeCase{
	// The plain shapes.
	{name: "minimal", line: `{"ts":1468244384,"uid":"8c568a5c86293989241"}`, wantTS: 1468244384, wantUID: "8c568a5c86293989241"},
	{name: "uid first", line: `{"uid":"a","ts":1}`, wantTS: 1, wantUID: "a"},
	{name: "other keys around", line: `{"x":1,"uid":"u","y":[1,2],"ts":5,"z":{"a":null}}`, wantTS: 5, wantUID: "u"},
	{name: "all value kinds", line: `{"a":true,"b":false,"c":null,"d":-1.5e+3,"e":"s","f":[],"g":{},"uid":"u","ts":7}`, wantTS: 7, wantUID: "u"},

	// Decoys in nested values are ignored.
	{name: "decoys nested object", line: `{"ts":10,"o":{"uid":"decoy","ts":99},"uid":"real"}`, wantTS: 10, wantUID: "real"},
	{name: "decoys deeper", line: `{"o":{"p":[{"uid":"d","ts":1}],"uid":false},"uid":"real","ts":10}`, wantTS: 10, wantUID: "real"},
	{name: "decoys only", line: `{"o":{"uid":"d","ts":1}}`, wantErr: ErrNoUID},
	{name: "decoy uid only nested", line: `{"ts":1,"o":{"uid":"d"}}`, wantErr: ErrNoUID},
	{name: "decoy ts only nested", line: `{"uid":"u","o":[{"ts":1}]}`, wantErr: ErrNoTS},
	{name: "decoy key in string", line: `{"s":"\"uid\":\"x\"","uid":"u","ts":1}`, wantTS: 1, wantUID: "u"},

	// Duplicate root keys: the last wins, whatever its type.
	{name: "dup uid last wins", line: `{"uid":"first","ts":1,"uid":"last"}`, wantTS: 1, wantUID: "last"},
	{name: "dup ts last wins", line: `{"ts":1,"uid":"u","ts":2}`, wantTS: 2, wantUID: "u"},
	{name: "dup uid last wrong type", line: `{"uid":"good","ts":1,"uid":1.5}`, wantErr: ErrBadUID},
	{name: "dup uid last number", line: `{"uid":"good","ts":1,"uid":7}`, wantTS: 1, wantUID: "7"},
	{name: "dup uid last null", line: `{"uid":"good","ts":1,"uid":null}`, wantErr: ErrBadUID},
	{name: "dup uid last empty", line: `{"uid":"good","ts":1,"uid":""}`, wantErr: ErrBadUID},
	{name: "dup uid bad then good", line: `{"uid":[1],"ts":1,"uid":"good"}`, wantTS: 1, wantUID: "good"},
	{name: "dup ts last wrong type", line: `{"ts":1,"uid":"u","ts":"x"}`, wantErr: ErrBadTS},
	{name: "dup ts last string", line: `{"ts":1,"uid":"u","ts":"2"}`, wantTS: 2, wantUID: "u"},
	{name: "dup ts last out of range", line: `{"ts":1,"uid":"u","ts":-1}`, wantErr: ErrTSRange},
	{name: "dup ts bad then good", line: `{"ts":{},"uid":"u","ts":3}`, wantTS: 3, wantUID: "u"},
	{name: "dup uid escaped then plain", line: `{"uid":"a\nb","uid":"plain","ts":1}`, wantTS: 1, wantUID: "plain"},
	{name: "dup uid plain then escaped", line: `{"uid":"plain","uid":"a\tb","ts":1}`, wantTS: 1, wantUID: "a\tb"},

	// Keys match exactly, after unescaping.
	{name: "key case", line: `{"UID":"u","ts":1}`, wantErr: ErrNoUID},
	{name: "key Ts case", line: `{"uid":"u","Ts":1}`, wantErr: ErrNoTS},
	{name: "key with space", line: `{"uid ":"u","ts":1}`, wantErr: ErrNoUID},
	{name: "key prefix", line: `{"ui":"u","uidx":"v","t":1,"tss":2}`, wantErr: ErrNoUID},
	{name: "key escaped u", line: `{"\u0075id":"u","ts":1}`, wantTS: 1, wantUID: "u"},
	{name: "key fully escaped", line: `{"\u0075\u0069\u0064":"u","\u0074\u0073":2}`, wantTS: 2, wantUID: "u"},
	{name: "key escaped upper hex", line: `{"u\u0049d":"u","ts":1}`, wantErr: ErrNoUID},
	{name: "key escaped slash", line: `{"\/uid":"u","ts":1}`, wantErr: ErrNoUID},
	{name: "key escaped overrides plain", line: `{"uid":"a","\u0075id":"b","ts":1}`, wantTS: 1, wantUID: "b"},
	{name: "key escaped wrong type last", line: `{"uid":"a","t\u0073":"x"}`, wantErr: ErrBadTS},
	{name: "key with NUL escape", line: `{"uid\u0000":"u","ts":1}`, wantErr: ErrNoUID},
	{name: "key invalid utf8", line: "{\"uid\xff\":\"u\",\"ts\":1}", wantErr: ErrNoUID},

	// The uid is encoding/json's string.
	{name: "uid escapes", line: `{"uid":"a\"b\\c\/d\be\ff\ng\rh\ti","ts":1}`, wantTS: 1, wantUID: "a\"b\\c/d\be\ff\ng\rh\ti"},
	{name: "uid \\u ascii", line: `{"uid":"\u0041\u0062","ts":1}`, wantTS: 1, wantUID: "Ab"},
	{name: "uid \\u bmp", line: `{"uid":"\u00e9\u4e16","ts":1}`, wantTS: 1, wantUID: "é世"},
	{name: "uid surrogate pair", line: `{"uid":"\ud83d\ude00","ts":1}`, wantTS: 1, wantUID: "😀"},
	{name: "uid surrogate pair upper", line: `{"uid":"\uD83D\uDE00x","ts":1}`, wantTS: 1, wantUID: "😀x"},
	{name: "uid lone high surrogate", line: `{"uid":"\ud83dx","ts":1}`, wantTS: 1, wantUID: "\ufffdx"},
	{name: "uid lone low surrogate", line: `{"uid":"\ude00","ts":1}`, wantTS: 1, wantUID: "\ufffd"},
	{name: "uid high high", line: `{"uid":"\ud83d\ud83d\ude00","ts":1}`, wantTS: 1, wantUID: "\ufffd😀"},
	{name: "uid high then bmp escape", line: `{"uid":"\ud83d\u0041","ts":1}`, wantTS: 1, wantUID: "\ufffdA"},
	{name: "uid high at end", line: `{"uid":"a\ud83d","ts":1}`, wantTS: 1, wantUID: "a\ufffd"},
	{name: "uid NUL escape", line: `{"uid":"\u0000","ts":1}`, wantTS: 1, wantUID: "\x00"},
	{name: "uid escaped U+FFFD", line: `{"uid":"\ufffd","ts":1}`, wantTS: 1, wantUID: "\ufffd"},
	{name: "uid raw utf8", line: `{"uid":"héllo 世界 😀","ts":1}`, wantTS: 1, wantUID: "héllo 世界 😀"},
	{name: "uid invalid utf8", line: "{\"uid\":\"a\xffb\",\"ts\":1}", wantTS: 1, wantUID: "a\ufffdb"},
	{name: "uid truncated utf8", line: "{\"uid\":\"\xe4\xb8\",\"ts\":1}", wantTS: 1, wantUID: "\ufffd\ufffd"},
	{name: "uid raw surrogate utf8", line: "{\"uid\":\"\xed\xa0\x80\",\"ts\":1}", wantTS: 1, wantUID: "\ufffd\ufffd\ufffd"},
	{name: "uid invalid utf8 and escape", line: "{\"uid\":\"\xc0\\n\",\"ts\":1}", wantTS: 1, wantUID: "\ufffd\n"},
	{name: "uid DEL byte", line: "{\"uid\":\"\x7f\",\"ts\":1}", wantTS: 1, wantUID: "\x7f"},
	{name: "uid long", line: `{"uid":"` + strings.Repeat("0123456789abcdef", 20) + `","ts":1}`, wantTS: 1, wantUID: strings.Repeat("0123456789abcdef", 20)},
	{name: "uid long escaped", line: `{"uid":"` + strings.Repeat(`ab\"`, 40) + `","ts":1}`, wantTS: 1, wantUID: strings.Repeat(`ab"`, 40)},

	// Whitespace anywhere JSON allows it, and line ends.
	{name: "whitespace everywhere", line: " \t\r\n{ \t\r\n\"uid\" \t\r\n: \t\r\n\"u\" \t\r\n, \"o\" : [ 1 , { \"a\" : 2 } ] , \"ts\" : 3 \t\r\n} \t\r\n", wantTS: 3, wantUID: "u"},
	{name: "LF line end", line: "{\"uid\":\"u\",\"ts\":1}\n", wantTS: 1, wantUID: "u"},
	{name: "CRLF line end", line: "{\"uid\":\"u\",\"ts\":1}\r\n", wantTS: 1, wantUID: "u"},
	{name: "form feed is not whitespace", line: "{\"uid\":\"u\",\"ts\":1}\f", wantErr: ErrSyntax},
	{name: "vertical tab is not whitespace", line: "\v{\"uid\":\"u\",\"ts\":1}", wantErr: ErrSyntax},
	{name: "NBSP is not whitespace", line: "{\"uid\":\"u\",\u00a0\"ts\":1}", wantErr: ErrSyntax},
	{name: "BOM", line: "\ufeff{\"uid\":\"u\",\"ts\":1}", wantErr: ErrSyntax},

	// Syntax: truncation, corruption, trailing data, empty lines, roots.
	{name: "empty line", line: "", wantErr: ErrSyntax},
	{name: "blank line", line: " \r\n", wantErr: ErrSyntax},
	{name: "truncated in value", line: `{"uid":"u","ts":14682`, wantErr: ErrSyntax},
	{name: "truncated in string", line: `{"uid":"u`, wantErr: ErrSyntax},
	{name: "truncated after comma", line: `{"uid":"u",`, wantErr: ErrSyntax},
	{name: "truncated nested", line: `{"uid":"u","ts":1,"o":{"a":[1,`, wantErr: ErrSyntax},
	{name: "truncated escape", line: `{"uid":"u\`, wantErr: ErrSyntax},
	{name: "truncated unicode escape", line: `{"uid":"\u00`, wantErr: ErrSyntax},
	{name: "missing close", line: `{"uid":"u","ts":1`, wantErr: ErrSyntax},
	{name: "corrupt tail", line: `{"uid":"u","ts":1,"o":{"a":tru}}`, wantErr: ErrSyntax},
	{name: "corrupt tail wrong bracket", line: `{"uid":"u","ts":1,"o":[1}}`, wantErr: ErrSyntax},
	{name: "corrupt tail wrong brace", line: `{"uid":"u","ts":1,"o":{"a":1]}`, wantErr: ErrSyntax},
	{name: "trailing garbage", line: `{"uid":"u","ts":1}x`, wantErr: ErrSyntax},
	{name: "trailing second object", line: `{"uid":"u","ts":1}{}`, wantErr: ErrSyntax},
	{name: "trailing comma in object", line: `{"uid":"u","ts":1,}`, wantErr: ErrSyntax},
	{name: "trailing comma in array", line: `{"uid":"u","ts":1,"a":[1,]}`, wantErr: ErrSyntax},
	{name: "missing colon", line: `{"uid" "u","ts":1}`, wantErr: ErrSyntax},
	{name: "missing comma", line: `{"uid":"u" "ts":1}`, wantErr: ErrSyntax},
	{name: "single quotes", line: `{'uid':'u','ts':1}`, wantErr: ErrSyntax},
	{name: "unquoted key", line: `{uid:"u",ts:1}`, wantErr: ErrSyntax},
	{name: "raw control char in string", line: "{\"uid\":\"a\tb\",\"ts\":1}", wantErr: ErrSyntax},
	{name: "raw newline in nested string", line: "{\"uid\":\"u\",\"ts\":1,\"s\":\"a\nb\"}", wantErr: ErrSyntax},
	{name: "bad escape", line: `{"uid":"\x41","ts":1}`, wantErr: ErrSyntax},
	{name: "bad escape quote", line: `{"uid":"\'","ts":1}`, wantErr: ErrSyntax},
	{name: "bad unicode escape", line: `{"uid":"\u00g0","ts":1}`, wantErr: ErrSyntax},
	{name: "NUL byte outside string", line: "{\"uid\":\"u\",\"ts\":1}\x00", wantErr: ErrSyntax},
	{name: "literal misspelled", line: `{"uid":"u","ts":1,"b":nul}`, wantErr: ErrSyntax},
	{name: "literal capitalised", line: `{"uid":"u","ts":1,"b":True}`, wantErr: ErrSyntax},
	{name: "NaN", line: `{"uid":"u","ts":NaN}`, wantErr: ErrSyntax},
	{name: "root array", line: `[{"uid":"u","ts":1}]`, wantErr: ErrSyntax},
	{name: "root string", line: `"uid"`, wantErr: ErrSyntax},
	{name: "root number", line: `1468244384`, wantErr: ErrSyntax},
	{name: "root null", line: `null`, wantErr: ErrSyntax},
	{name: "root true", line: `true`, wantErr: ErrSyntax},
	{name: "empty object", line: `{}`, wantErr: ErrNoUID},
	{name: "empty object spaced", line: ` { } `, wantErr: ErrNoUID},
	{name: "too deep", line: `{"a":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `,"uid":"u","ts":1}`, wantErr: ErrSyntax},
	{name: "deepest allowed", line: `{"a":` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + `,"uid":"u","ts":1}`, wantTS: 1, wantUID: "u"},
	{name: "deep objects", line: `{"a":` + strings.Repeat(`{"b":`, 200) + `1` + strings.Repeat("}", 200) + `,"uid":"u","ts":1}`, wantTS: 1, wantUID: "u"},
	{name: "syntax beats uid", line: `{"ts":1}x`, wantErr: ErrSyntax},
	{name: "syntax after good frame", line: `{"uid":"u","ts":1,"x":[}`, wantErr: ErrSyntax},

	// Number syntax.
	{name: "number leading zero", line: `{"uid":"u","ts":01}`, wantErr: ErrSyntax},
	{name: "number plus", line: `{"uid":"u","ts":+1}`, wantErr: ErrSyntax},
	{name: "number bare dot", line: `{"uid":"u","ts":1.}`, wantErr: ErrSyntax},
	{name: "number leading dot", line: `{"uid":"u","ts":.5}`, wantErr: ErrSyntax},
	{name: "number bare exponent", line: `{"uid":"u","ts":1e}`, wantErr: ErrSyntax},
	{name: "number exponent sign only", line: `{"uid":"u","ts":1e+}`, wantErr: ErrSyntax},
	{name: "number minus only", line: `{"uid":"u","ts":-}`, wantErr: ErrSyntax},
	{name: "number hex", line: `{"uid":"u","ts":0x10}`, wantErr: ErrSyntax},
	{name: "nested number leading zero", line: `{"uid":"u","ts":1,"n":[00]}`, wantErr: ErrSyntax},

	// ts forms.
	{name: "ts zero", line: `{"uid":"u","ts":0}`, wantTS: 0, wantUID: "u"},
	{name: "ts minus zero", line: `{"uid":"u","ts":-0}`, wantTS: 0, wantUID: "u"},
	{name: "ts max", line: `{"uid":"u","ts":253402300799}`, wantTS: MaxTS, wantUID: "u"},
	{name: "ts max+1", line: `{"uid":"u","ts":253402300800}`, wantErr: ErrTSRange},
	{name: "ts negative", line: `{"uid":"u","ts":-1}`, wantErr: ErrTSRange},
	{name: "ts int64 max", line: `{"uid":"u","ts":9223372036854775807}`, wantErr: ErrTSRange},
	{name: "ts int64 overflow", line: `{"uid":"u","ts":99999999999999999999999}`, wantErr: ErrTSRange},
	{name: "ts negative overflow", line: `{"uid":"u","ts":-99999999999999999999999}`, wantErr: ErrTSRange},
	{name: "ts fraction", line: `{"uid":"u","ts":1468244384.9}`, wantTS: 1468244384, wantUID: "u"},
	{name: "ts exponent", line: `{"uid":"u","ts":1.468e9}`, wantTS: 1468000000, wantUID: "u"},
	{name: "ts exponent upper plus", line: `{"uid":"u","ts":1468244384E+0}`, wantTS: 1468244384, wantUID: "u"},
	{name: "ts exponent negative", line: `{"uid":"u","ts":14682443849e-1}`, wantTS: 1468244384, wantUID: "u"},
	{name: "ts small negative fraction truncates to 0", line: `{"uid":"u","ts":-0.5}`, wantTS: 0, wantUID: "u"},
	{name: "ts negative fraction", line: `{"uid":"u","ts":-1.5}`, wantErr: ErrTSRange},
	{name: "ts max fraction", line: `{"uid":"u","ts":253402300799.5}`, wantTS: MaxTS, wantUID: "u"},
	{name: "ts float overflow", line: `{"uid":"u","ts":1e400}`, wantErr: ErrTSRange},
	{name: "ts float underflow", line: `{"uid":"u","ts":1e-400}`, wantTS: 0, wantUID: "u"},
	{name: "ts long fraction", line: `{"uid":"u","ts":1468244384.0000000000000000000000000000000000001}`, wantTS: 1468244384, wantUID: "u"},
	{name: "ts string", line: `{"uid":"u","ts":"1468244384"}`, wantTS: 1468244384, wantUID: "u"},
	{name: "ts string zero", line: `{"uid":"u","ts":"0"}`, wantTS: 0, wantUID: "u"},
	{name: "ts string leading zeros", line: `{"uid":"u","ts":"0001468244384"}`, wantTS: 1468244384, wantUID: "u"},
	{name: "ts string many leading zeros", line: `{"uid":"u","ts":"` + strings.Repeat("0", 40) + `7"}`, wantTS: 7, wantUID: "u"},
	{name: "ts string max", line: `{"uid":"u","ts":"253402300799"}`, wantTS: MaxTS, wantUID: "u"},
	{name: "ts string max+1", line: `{"uid":"u","ts":"253402300800"}`, wantErr: ErrTSRange},
	{name: "ts string huge", line: `{"uid":"u","ts":"99999999999999999999999"}`, wantErr: ErrTSRange},
	{name: "ts string escaped digits", line: `{"uid":"u","ts":"\u0031468244384"}`, wantTS: 1468244384, wantUID: "u"},
	{name: "ts string empty", line: `{"uid":"u","ts":""}`, wantErr: ErrBadTS},
	{name: "ts string negative", line: `{"uid":"u","ts":"-1"}`, wantErr: ErrBadTS},
	{name: "ts string plus", line: `{"uid":"u","ts":"+1"}`, wantErr: ErrBadTS},
	{name: "ts string space", line: `{"uid":"u","ts":" 1468244384"}`, wantErr: ErrBadTS},
	{name: "ts string fraction", line: `{"uid":"u","ts":"1468244384.5"}`, wantErr: ErrBadTS},
	{name: "ts string exponent", line: `{"uid":"u","ts":"1e9"}`, wantErr: ErrBadTS},
	{name: "ts string escaped newline", line: `{"uid":"u","ts":"1\n"}`, wantErr: ErrBadTS},
	{name: "ts string non-ASCII digits", line: `{"uid":"u","ts":"١٤٦٨"}`, wantErr: ErrBadTS},
	{name: "ts string ms in seconds", line: `{"uid":"u","ts":"1468244384000"}`, wantErr: ErrTSRange},
	{name: "ts null", line: `{"uid":"u","ts":null}`, wantErr: ErrBadTS},
	{name: "ts bool", line: `{"uid":"u","ts":true}`, wantErr: ErrBadTS},
	{name: "ts array", line: `{"uid":"u","ts":[1]}`, wantErr: ErrBadTS},
	{name: "ts object", line: `{"uid":"u","ts":{"ts":1}}`, wantErr: ErrBadTS},
	{name: "no ts", line: `{"uid":"u"}`, wantErr: ErrNoTS},

	// uid rejections, and their precedence over ts.
	{name: "no uid", line: `{"ts":1}`, wantErr: ErrNoUID},
	{name: "uid number", line: `{"uid":123,"ts":1}`, wantTS: 1, wantUID: "123"},
	{name: "uid zero", line: `{"uid":0,"ts":1}`, wantTS: 1, wantUID: "0"},
	{name: "uid minus zero", line: `{"uid":-0,"ts":1}`, wantTS: 1, wantUID: "0"},
	{name: "uid negative", line: `{"uid":-42,"ts":1}`, wantTS: 1, wantUID: "-42"},
	{name: "uid huge integer", line: `{"uid":123456789012345678901234567890,"ts":1}`, wantTS: 1, wantUID: "123456789012345678901234567890"},
	{name: "uid fraction", line: `{"uid":1.5,"ts":1}`, wantErr: ErrBadUID},
	{name: "uid integral fraction", line: `{"uid":42.0,"ts":1}`, wantErr: ErrBadUID},
	{name: "uid exponent", line: `{"uid":1e3,"ts":1}`, wantErr: ErrBadUID},
	{name: "uid null", line: `{"uid":null,"ts":1}`, wantErr: ErrBadUID},
	{name: "uid bool", line: `{"uid":true,"ts":1}`, wantErr: ErrBadUID},
	{name: "uid object", line: `{"uid":{"uid":"x"},"ts":1}`, wantErr: ErrBadUID},
	{name: "uid array", line: `{"uid":["x"],"ts":1}`, wantErr: ErrBadUID},
	{name: "uid empty", line: `{"uid":"","ts":1}`, wantErr: ErrBadUID},
	{name: "no uid beats no ts", line: `{"a":1}`, wantErr: ErrNoUID},
	{name: "bad uid beats bad ts", line: `{"uid":true,"ts":"x"}`, wantErr: ErrBadUID},
	{name: "bad uid beats ts range", line: `{"uid":1.5,"ts":-5}`, wantErr: ErrBadUID},
	{name: "number uid then bad ts", line: `{"uid":1,"ts":"x"}`, wantErr: ErrBadTS},
	{name: "no ts beats nothing", line: `{"uid":"u","x":"ts"}`, wantErr: ErrNoTS},

	// ts units: converted to seconds and truncated toward zero, then range-checked.
	{name: "ms", cfg: ms, line: `{"uid":"a","ts":1468244384000}`, wantTS: 1468244384, wantUID: "a"},
	{name: "ms truncates", cfg: ms, line: `{"uid":"a","ts":1468244384999}`, wantTS: 1468244384, wantUID: "a"},
	{name: "ms string", cfg: ms, line: `{"uid":"a","ts":"1468244384123"}`, wantTS: 1468244384, wantUID: "a"},
	{name: "ms below a second", cfg: ms, line: `{"uid":"a","ts":999}`, wantTS: 0, wantUID: "a"},
	{name: "ms string below a second", cfg: ms, line: `{"uid":"a","ts":"7"}`, wantTS: 0, wantUID: "a"},
	{name: "ms small negative truncates to 0", cfg: ms, line: `{"uid":"a","ts":-999}`, wantTS: 0, wantUID: "a"},
	{name: "ms negative", cfg: ms, line: `{"uid":"a","ts":-1000}`, wantErr: ErrTSRange},
	{name: "ms fraction", cfg: ms, line: `{"uid":"a","ts":1468244384000.5}`, wantTS: 1468244384, wantUID: "a"},
	{name: "ms exponent", cfg: ms, line: `{"uid":"a","ts":1.468244384e12}`, wantTS: 1468244384, wantUID: "a"},
	{name: "ms max", cfg: ms, line: `{"uid":"a","ts":253402300799999}`, wantTS: MaxTS, wantUID: "a"},
	{name: "ms max+1", cfg: ms, line: `{"uid":"a","ts":253402300800000}`, wantErr: ErrTSRange},
	{name: "ms seconds value", cfg: ms, line: `{"uid":"a","ts":1468244384}`, wantTS: 1468244, wantUID: "a"},
	{name: "seconds ms value", line: `{"uid":"a","ts":1468244384000}`, wantErr: ErrTSRange},
	{name: "us", cfg: us, line: `{"uid":"a","ts":1468244384000001}`, wantTS: 1468244384, wantUID: "a"},
	{name: "us string", cfg: us, line: `{"uid":"a","ts":"1468244384999999"}`, wantTS: 1468244384, wantUID: "a"},
	{name: "ns", cfg: ns, line: `{"uid":"a","ts":1468244384123456789}`, wantTS: 1468244384, wantUID: "a"},
	{name: "ns beyond int64", cfg: ns, line: `{"uid":"a","ts":100000000000000000000}`, wantTS: 100000000000, wantUID: "a"},
	{name: "ns max", cfg: ns, line: `{"uid":"a","ts":"253402300799999999999"}`, wantTS: MaxTS, wantUID: "a"},
	{name: "ns max+1", cfg: ns, line: `{"uid":"a","ts":253402300800000000000}`, wantErr: ErrTSRange},
	{name: "ns exponent", cfg: ns, line: `{"uid":"a","ts":1.468244384e18}`, wantTS: 1468244384, wantUID: "a"},
	{name: "ns float overflow", cfg: ns, line: `{"uid":"a","ts":1e400}`, wantErr: ErrTSRange},
	{name: "ns bad ts", cfg: ns, line: `{"uid":"a","ts":"1.5"}`, wantErr: ErrBadTS},

	// Field paths: anchored at the root, the last duplicate wins at every level.
	{name: "path", cfg: userID, line: `{"user":{"id":"a"},"ts":1}`, wantTS: 1, wantUID: "a"},
	{name: "path decoys", cfg: userID, line: `{"id":"x","uid":"y","user":{"name":"n","id":"a","o":{"id":"z"}},"o":{"user":{"id":"w"}},"ts":1}`, wantTS: 1, wantUID: "a"},
	{name: "path number", cfg: userID, line: `{"user":{"id":42},"ts":1}`, wantTS: 1, wantUID: "42"},
	{name: "path missing inner", cfg: userID, line: `{"user":{"name":"n"},"ts":1}`, wantErr: ErrNoUID},
	{name: "path missing outer", cfg: userID, line: `{"id":"a","ts":1}`, wantErr: ErrNoUID},
	{name: "path too deep", cfg: userID, line: `{"user":{"x":{"id":"a"}},"ts":1}`, wantErr: ErrNoUID},
	{name: "path outer string", cfg: userID, line: `{"user":"bob","ts":1}`, wantErr: ErrNoUID},
	{name: "path outer null", cfg: userID, line: `{"user":null,"ts":1}`, wantErr: ErrNoUID},
	{name: "path outer array", cfg: userID, line: `{"user":[{"id":"a"}],"ts":1}`, wantErr: ErrNoUID},
	{name: "path inner bad", cfg: userID, line: `{"user":{"id":false},"ts":1}`, wantErr: ErrBadUID},
	{name: "path inner empty", cfg: userID, line: `{"user":{"id":""},"ts":1}`, wantErr: ErrBadUID},
	{name: "path dup outer replaces", cfg: userID, line: `{"user":{"id":"a"},"user":{"name":"b"},"ts":1}`, wantErr: ErrNoUID},
	{name: "path dup outer later", cfg: userID, line: `{"user":{"name":"b"},"user":{"id":"a"},"ts":1}`, wantTS: 1, wantUID: "a"},
	{name: "path dup outer not object", cfg: userID, line: `{"user":{"id":"a"},"user":1,"ts":1}`, wantErr: ErrNoUID},
	{name: "path dup inner", cfg: userID, line: `{"user":{"id":"a","id":"b"},"ts":1}`, wantTS: 1, wantUID: "b"},
	{name: "path escaped keys", cfg: userID, line: `{"us\u0065r":{"\u0069d":"a"},"ts":1}`, wantTS: 1, wantUID: "a"},
	{name: "path syntax still checked", cfg: userID, line: `{"user":{"id":"a","x":[1,]},"ts":1}`, wantErr: ErrSyntax},
	{name: "path shared object", cfg: userBoth, line: `{"user":{"ts":5,"id":"a"}}`, wantTS: 5, wantUID: "a"},
	{name: "path shared object root decoy", cfg: userBoth, line: `{"ts":1,"uid":"u","user":{"id":"a"}}`, wantErr: ErrNoTS},
	{name: "path shared object replaced", cfg: userBoth, line: `{"user":{"ts":5,"id":"a"},"user":{"id":"b"}}`, wantErr: ErrNoTS},
	{name: "path deep ts", cfg: deepTS, line: `{"uid":"u","m":{"t":{"s":"1468244384"}}}`, wantTS: 1468244384, wantUID: "u"},
	{name: "path deep ts ms", cfg: deepTSms, line: `{"uid":"u","m":{"x":1,"t":{"s":1468244384000}}}`, wantTS: 1468244384, wantUID: "u"},
	{name: "path deep ts missing", cfg: deepTS, line: `{"uid":"u","m":{"t":{"x":1}},"ts":1}`, wantErr: ErrNoTS},
	{name: "path key with a dot", cfg: dotted, line: `{"a":{"b":"y"},"a.b":"x","ts":1}`, wantTS: 1, wantUID: "x"},
	{name: "path key with a dot nested", cfg: userID, line: `{"user.id":"x","user":{"id":"y"},"ts":1}`, wantTS: 1, wantUID: "y"},
	{name: "path key with a quote", cfg: quoted, line: `{"a\"b":"x","ts":1}`, wantTS: 1, wantUID: "x"},
	{name: "path key with a backslash", cfg: backslashed, line: `{"a\\b":"x","ts":1}`, wantTS: 1, wantUID: "x"},
	{name: "path key U+FFFD from invalid UTF-8", cfg: replacement, line: "{\"\xff\":\"x\",\"ts\":1}", wantTS: 1, wantUID: "x"},
	{name: "path key U+FFFD escaped", cfg: replacement, line: `{"\ufffd":"x","ts":1}`, wantTS: 1, wantUID: "x"},
	{name: "path key U+FFFD raw", cfg: replacement, line: `{"�":"x","ts":1}`, wantTS: 1, wantUID: "x"},
	{name: "path key non-ASCII", cfg: nonASCII, line: `{"ü":{"\u00fc":"x"},"ts":1}`, wantTS: 1, wantUID: "x"},
	{name: "path challenge decoys become real", cfg: decoys, line: `{"uid":"root","ts":1,"Duis":{"uid":"inner","ts":2}}`, wantTS: 2, wantUID: "inner"},
	{name: "path no uid beats bad ts", cfg: userID, line: `{"ts":"x"}`, wantErr: ErrNoUID},
}

// Configurations of the table cases and the fuzzers.
var (
	ms          = FrameConfig{TSUnit: time.Millisecond}
	us          = FrameConfig{TSUnit: time.Microsecond}
	ns          = FrameConfig{TSUnit: time.Nanosecond}
	userID      = FrameConfig{UIDField: "user.id"}
	userBoth    = FrameConfig{UIDField: "user.id", TSField: "user.ts"}
	deepTS      = FrameConfig{TSField: "m.t.s"}
	deepTSms    = FrameConfig{TSField: "m.t.s", TSUnit: time.Millisecond}
	dotted      = FrameConfig{UIDField: `a\.b`}
	quoted      = FrameConfig{UIDField: `a"b`}
	backslashed = FrameConfig{UIDField: `a\\b`}
	replacement = FrameConfig{UIDField: "\ufffd"}
	nonASCII    = FrameConfig{UIDField: "ü.ü"}
	decoys      = FrameConfig{UIDField: "Duis.uid", TSField: "Duis.ts"}
)

func TestDecode(t *testing.T) {
	for _, tc := range decodeCases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewFrameDecoder(tc.cfg)
			if err != nil {
				t.Fatalf("NewFrameDecoder(%+v) error = %v", tc.cfg, err)
			}
			got, err := d.Decode([]byte(tc.line))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Decode(%.80q) error = %v, want %v", tc.line, err, tc.wantErr)
				}
				if got.TS != 0 || got.UID != nil {
					t.Errorf("Decode(%.80q) = %+v with error, want the zero Frame", tc.line, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode(%.80q) error = %v, want nil", tc.line, err)
			}
			if got.TS != tc.wantTS || string(got.UID) != tc.wantUID {
				t.Errorf("Decode(%.80q) = {TS:%d UID:%q}, want {TS:%d UID:%q}", tc.line, got.TS, got.UID, tc.wantTS, tc.wantUID)
			}
		})
	}
}

// TestDecodeCasesMatchReference keeps the table honest: every expectation
// must also be what encoding/json says.
func TestDecodeCasesMatchReference(t *testing.T) {
	for _, tc := range decodeCases {
		want := refDecodeWith([]byte(tc.line), tc.cfg)
		if got := Reason(tc.wantErr); got != want.reason {
			t.Errorf("case %q expects reason %q, reference says %q", tc.name, got, want.reason)
			continue
		}
		if tc.wantErr == nil && (tc.wantTS != want.ts || tc.wantUID != want.uid) {
			t.Errorf("case %q expects {TS:%d UID:%q}, reference says {TS:%d UID:%q}", tc.name, tc.wantTS, tc.wantUID, want.ts, want.uid)
		}
	}
}

func TestReason(t *testing.T) {
	other := errors.New("something else")
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{ErrSyntax, "syntax"},
		{ErrNoUID, "no_uid"},
		{ErrBadUID, "bad_uid"},
		{ErrNoTS, "no_ts"},
		{ErrBadTS, "bad_ts"},
		{ErrTSRange, "ts_range"},
		{fmt.Errorf("decode frame at offset 3: %w", ErrSyntax), "syntax"},
		{fmt.Errorf("outer: %w", fmt.Errorf("inner: %w", ErrTSRange)), "ts_range"},
		{other, "invalid"},
		{fmt.Errorf("wrapped: %w", other), "invalid"},
	}
	for _, tt := range tests {
		if got := Reason(tt.err); got != tt.want {
			t.Errorf("Reason(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// TestDecodeUIDLifetime pins the aliasing contract: a plain uid aliases the
// line, an escaped one the scratch buffer, which the next Decode reuses.
func TestDecodeUIDLifetime(t *testing.T) {
	var d FrameDecoder
	line := []byte(`{"uid":"plain","ts":1}`)
	f, err := d.Decode(line)
	if err != nil {
		t.Fatalf("Decode(%q) error = %v", line, err)
	}
	if &f.UID[0] != &line[8] {
		t.Errorf("Decode(%q).UID does not alias the line", line)
	}
	f1, err := d.Decode([]byte(`{"uid":"a\nb","ts":1}`))
	if err != nil {
		t.Fatal(err)
	}
	kept := string(f1.UID)
	f2, err := d.Decode([]byte(`{"uid":"c\td","ts":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if kept != "a\nb" || string(f2.UID) != "c\td" {
		t.Errorf("escaped uids = %q then %q, want %q then %q", kept, f2.UID, "a\nb", "c\td")
	}
}

// TestDecodeAllocs pins zero allocations per frame once the decoder is warm,
// for the challenge frames (uids without escapes) and for an escaped uid.
func TestDecodeAllocs(t *testing.T) {
	lines := sampleLines(t)
	lines = append(lines, []byte(`{"uid":"a\u00e9\ud83d\ude00","ts":1.5e9}`))
	var d FrameDecoder
	for _, l := range lines {
		if _, err := d.Decode(l); err != nil {
			t.Fatalf("Decode(%.80q) error = %v", l, err)
		}
	}
	i := 0
	got := testing.AllocsPerRun(2000, func() {
		_, _ = d.Decode(lines[i%len(lines)])
		i++
	})
	if got != 0 {
		t.Errorf("Decode allocates %v times per frame, want 0", got)
	}
}

// TestDecodeSyntaxDetail checks that a syntax error says what and where, so
// a dead-letter record can be understood without the decoder at hand.
func TestDecodeSyntaxDetail(t *testing.T) {
	tests := []struct {
		line string
		want string
	}{
		{``, "offset 0: unexpected end of input"},
		{`{"uid":"u","ts":1}x`, "offset 18: data after the object"},
		{`{"uid":"u","ts":1,"a":[1}`, "offset 24: invalid character"},
		{`{"uid":"u`, "offset 9: unexpected end of input"},
		{`[1]`, "offset 0: root is not an object"},
		{`{"a":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`, "offset 10004: exceeded max depth"}, // the 10000th '[' is depth 10001,
	}
	var d FrameDecoder
	for _, tt := range tests {
		_, err := d.Decode([]byte(tt.line))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrSyntax) {
			t.Errorf("Decode(%.40q) error = %v, want ErrSyntax with %q", tt.line, err, tt.want)
		}
	}
}
