package view

import _ "embed"

// pageHTML is the live page: one self-contained file (inline CSS and JS, no external assets,
// so it works offline and behind strict proxies) that polls the API every 2 s.
//
//go:embed page.html
var pageHTML []byte
