package view

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"regexp"
	"strings"
)

// pageHTML is the live page: one self-contained file (inline CSS and JS, no external assets,
// so it works offline and behind strict proxies) that polls the API every 2 s.
//
//go:embed page.html
var pageHTML []byte

// PageCSP is the page's Content-Security-Policy: nothing but its own inline style and script,
// allowed by their SHA-256 hashes, and requests to its own origin (the API). No other script,
// style, frame, form target or plugin can run in it.
var PageCSP = pageCSP(pageHTML)

var inlineBlock = regexp.MustCompile(`(?s)<(script|style)>(.*?)</(?:script|style)>`)

func pageCSP(page []byte) string {
	var scripts, styles []string
	for _, m := range inlineBlock.FindAllSubmatch(page, -1) {
		sum := sha256.Sum256(m[2])
		h := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		if string(m[1]) == "script" {
			scripts = append(scripts, h)
		} else {
			styles = append(styles, h)
		}
	}
	none := func(hs []string) string {
		if len(hs) == 0 {
			return "'none'"
		}
		return strings.Join(hs, " ")
	}
	return "default-src 'none'; script-src " + none(scripts) + "; style-src " + none(styles) +
		"; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}
