// Package browsertest drives a real headless Chromium from Go tests (through chromedp), so a
// test sees the page as a user's browser does: its Content-Security-Policy enforced, its script
// run, its SVG laid out. It records every console error, uncaught exception and CSP violation
// the page causes, for the test to require none.
//
// Chromium is Debian's `chromium` package (`make chromium` installs it). Without it, New skips
// the test, except under CI=true, where a missing browser is a failure, never a silent skip.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Env names the browser binary, for machines where it is not chromium on PATH.
const Env = "KUNIQ_CHROMIUM"

// Browser is one headless Chromium with one tab. Its context ends with the test.
type Browser struct {
	// Ctx is the tab's chromedp context: pass it to chromedp.Run.
	Ctx context.Context
	// Expected are substrings of console messages that are not problems: a page that asks its
	// API a question whose answer is a 4xx makes the browser log "Failed to load resource".
	Expected []string

	mu       sync.Mutex
	problems []string
}

// cspHook runs in every document before its own scripts (CDP's injection is not subject to the
// page's policy) and keeps the violations the page's policy reports.
const cspHook = `window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", e =>
  window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline")));`

// Path returns the Chromium binary: $KUNIQ_CHROMIUM, else chromium (Debian) or
// chromium-browser on PATH.
func Path() (string, error) {
	if p := os.Getenv(Env); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("chromium not found on PATH (or set %s)", Env)
}

// New starts Chromium for t, or skips t without it (fails under CI=true).
func New(t testing.TB) *Browser {
	t.Helper()
	path, err := Path()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v under CI=true: `make chromium` installs Debian's chromium package", err)
		}
		t.Skipf("%v: `make chromium` installs it", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		// Root (CI containers) cannot use Chromium's sandbox; the pages are our own.
		chromedp.NoSandbox,
		chromedp.WindowSize(1280, 1100),
		chromedp.Flag("headless", "new"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	b := &Browser{Ctx: ctx}
	// The first action starts the browser and opens the tab, for as long as the context it
	// gets lives: the tab's own, not one with a timeout.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: cspHook}); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	// Console errors, uncaught exceptions and the browser log's errors (where CSP violations
	// and failed requests are reported) are the page's problems.
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.problem(m.String() + " " + m.URL)
			}
		}
	}()
	return b
}

func (b *Browser) problem(s string) {
	b.mu.Lock()
	b.problems = append(b.problems, s)
	b.mu.Unlock()
}

// Problems returns the console errors, exceptions and CSP violations seen so far (the latter
// read from the current document).
func (b *Browser) Problems() []string {
	csp, _ := chromedp.Run(b.Ctx, chromedp.Evaluate[[]string](`window.__cspViolations || []`))
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, p := range b.problems {
		if !slices.ContainsFunc(b.Expected, func(e string) bool { return strings.Contains(p, e) }) {
			out = append(out, p)
		}
	}
	for _, v := range csp {
		out = append(out, "CSP violation: "+v)
	}
	return out
}

// Reset forgets the problems recorded so far (after a deliberate one).
func (b *Browser) Reset() {
	b.mu.Lock()
	b.problems = nil
	b.mu.Unlock()
	_ = chromedp.Do(b.Ctx, chromedp.Evaluate[chromedp.Void](`window.__cspViolations = []`))
}

// Until evaluates the JavaScript expression js every 100 ms until it is true, for at most
// timeout; it fails t with what, and the page's status line, when it never is.
func (b *Browser) Until(t testing.TB, timeout time.Duration, what, js string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, timeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		status, _ := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`String((document.getElementById("status") || {}).textContent)`))
		t.Fatalf("%s: not within %v (%s): %v; problems %q", what, timeout, status, err, b.Problems())
	}
}

// Eval evaluates the JavaScript expression js and decodes its value as T, failing t on error.
func Eval[T any](t testing.TB, b *Browser, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// Do runs chromedp actions with a timeout, failing t on error.
func (b *Browser) Do(t testing.TB, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("chromedp: %v", err)
	}
}

// Screenshot writes a PNG of the whole page to path.
func (b *Browser) Screenshot(t testing.TB, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}
