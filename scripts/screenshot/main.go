// Command screenshot saves a PNG of a page as headless Chromium renders it: how the
// screenshot of kuniq's page in docs/ is made (`make screenshot` runs it against a live
// pipeline; see scripts/screenshot.sh).
//
//	go run ./scripts/screenshot -url http://127.0.0.1:8080/ -out docs/img/page.png
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kuniq/kuniq/internal/browsertest"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:8080/", "the page")
	out := flag.String("out", "page.png", "the PNG to write")
	width := flag.Int("width", 1280, "viewport width in CSS pixels")
	height := flag.Int("height", 1000, "viewport height in CSS pixels")
	ready := flag.String("ready", "#chart path.series", "a CSS selector present once the page has drawn its data")
	click := flag.String("click", "", "a CSS selector to click once ready (e.g. the range form's button), then wait for -clicked")
	clicked := flag.String("clicked", "", "a CSS selector present once the click has had its effect")
	settle := flag.Duration("settle", 3*time.Second, "wait this long before the shot (polls, transitions)")
	timeout := flag.Duration("timeout", 60*time.Second, "give up after this long")
	flag.Parse()
	s := shot{*url, *out, *width, *height, *ready, *click, *clicked, *settle, *timeout}
	if err := s.take(); err != nil {
		fmt.Fprintln(os.Stderr, "screenshot:", err)
		os.Exit(1)
	}
}

type shot struct {
	url, out              string
	width, height         int
	ready, click, clicked string
	settle, timeout       time.Duration
}

func (s shot) take() error {
	path, err := browsertest.Path()
	if err != nil {
		return err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // root in containers cannot use the sandbox; the page is our own
		chromedp.WindowSize(s.width, s.height),
		chromedp.Flag("headless", "new"),
		chromedp.Flag("hide-scrollbars", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	tab, cancelTab := chromedp.NewContext(actx)
	defer cancelTab()
	// The first action starts the browser and opens the tab for as long as the context it gets
	// lives: the tab's own, not one with a timeout.
	if err := chromedp.Do(tab, chromedp.Navigate("about:blank")); err != nil {
		return fmt.Errorf("start chromium %s: %w", path, err)
	}
	ctx, cancel := context.WithTimeout(tab, s.timeout)
	defer cancel()
	actions := []chromedp.Action[chromedp.Void]{
		chromedp.EmulateViewport(int64(s.width), int64(s.height)),
		chromedp.Navigate(s.url),
		present(s.ready),
	}
	if s.click != "" {
		actions = append(actions, chromedp.Evaluate[chromedp.Void]("document.querySelector("+strconv.Quote(s.click)+").click()"))
		if s.clicked != "" {
			actions = append(actions, present(s.clicked))
		}
	}
	actions = append(actions, chromedp.Sleep(s.settle))
	if err := chromedp.Do(ctx, actions...); err != nil {
		return fmt.Errorf("%s: %w", s.url, err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG, lossless
	if err != nil {
		return fmt.Errorf("screenshot of %s: %w", s.url, err)
	}
	if err := os.WriteFile(s.out, png, 0o644); err != nil {
		return err
	}
	fmt.Printf("screenshot: %s (%d KB) of %s\n", s.out, len(png)/1024, s.url)
	return nil
}

// present waits until an element matches the selector. WaitVisible does not serve here: it
// never reports an SVG path visible.
func present(selector string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void]("document.querySelector("+strconv.Quote(selector)+") !== null",
		chromedp.WithPollingInterval(100*time.Millisecond))
}
