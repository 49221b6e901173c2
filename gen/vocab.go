package gen

import "strings"

// lorem is the challenge's key vocabulary: the words of the Lorem-ipsum
// paragraph with their repeats (so "in" is drawn three times as often as
// "sit"), without "id", which the real frames never use.
var lorem = strings.Fields("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do " +
	"eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, " +
	"quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. " +
	"Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat " +
	"nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui " +
	"officia deserunt mollit anim est laborum.")

// english are the challenge's ASCII string values; between them they use
// every escape JSON has a short form for.
var english = []string{
	"code/properties,/giving/the/best/of/both/the",
	"specifying\"types,\"like\"dynamic\"languages\"do.\"On\"the",
	"read. Show example Built-in linear and associative arrays,",
	"the\rRAII\ridiom)\rand\rscope\rstatements\rfor\rdeterministic",
	"memory\fmanagement\fmakes\ffor\fsafe,\fsimple,\fand\frobust",
	"code.\nD\nalso\nsupports\nscoped\nresource\nmanagement\n(aka",
	"example",
	"transactional\tcode\tthat\tis\teasy\tto\twrite\tand",
	"static\band\bthe\bdynamic\bworlds.\bShow\bexample\bAutomatic",
	"slices,\"and\"ranges\"make\"daily\"programming\"simple\"and",
	"D allows writing large code fragments without redundantly",
	"pleasant\\for\\tasks,\\both\\small\\and\\large.\\Show",
	"other\\hand,\\static\\inference\\deduces\\types\\and\\other",
}

// unicode are raw UTF-8 string values: the challenge's Pushkin lines (2-byte
// runes) plus two of ours with 3- and 4-byte runes, so parsers meet every
// UTF-8 length.
var unicode = []string{
	"Он звал прекрасное мечтою;",
	"Благословить он не хотел.",
	"Стал тайно навещать меня.",
	"Свобода, слава и любовь",
	"Не верил он любви, свободе;",
	"И вдохновенные искусства",
	"Так сильно волновали кровь,-",
	"Тогда какой-то злобный гений",
	"В те дни, когда мне были новы",
	"Вливали в душу хладный яд.",
	"Тоской внезапной осеня,",
	"Часы надежд и наслаждений",
	"И взоры дев, и шум дубровы,",
	"Его язвительные речи",
	"Он вдохновенье презирал;",
	"Его улыбка, чудный взгляд,",
	"И ночью пенье соловья,-",
	"Он провиденье искушал;",
	"Все впечатленья бытия -",
	"Когда возвышенные чувства,",
	"Неистощимой клеветою",
	"Печальны были наши встречи:",
	"На жизнь насмешливо глядел -",
	"И ничего во всей природе",
	"日本語のテキスト、句読点。",
	"emoji 🙂 in 🚀 text",
}

// Pre-encoded tokens, built once: the hot loop only copies bytes.
var (
	keyTokens     [][]byte // `"word":`
	englishTokens [][]byte // `"..."` with escapes
	unicodeTokens [][]byte
	uidKey        = []byte(`"uid":`)
	tsKey         = []byte(`"ts":`)
)

func init() {
	for _, w := range lorem {
		keyTokens = append(keyTokens, append(appendJSONString(nil, w), ':'))
	}
	for _, s := range english {
		englishTokens = append(englishTokens, appendJSONString(nil, s))
	}
	for _, s := range unicode {
		unicodeTokens = append(unicodeTokens, appendJSONString(nil, s))
	}
}

// appendJSONString appends s as a JSON string: the short escapes where JSON
// has them, \u00XX for other control characters, UTF-8 as is. Unlike
// encoding/json it leaves <, > and & alone, as the challenge's frames do.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			if c < 0x20 {
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			} else {
				b = append(b, c)
			}
		}
	}
	return append(b, '"')
}
