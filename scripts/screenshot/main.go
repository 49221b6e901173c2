// Command screenshot saves a PNG of a page as headless Chromium renders it: how the
// screenshot of kuniq's page in docs/ is made (`make screenshot`, after `make demo`).
//
//	go run ./scripts/screenshot -url http://127.0.0.1:8080/ -out docs/img/page.png
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kuniq/kuniq/internal/browsertest"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:8080/", "the page")
	out := flag.String("out", "page.png", "the PNG to write")
	width := flag.Int("width", 1280, "viewport width in CSS pixels")
	height := flag.Int("height", 1000, "viewport height in CSS pixels")
	ready := flag.String("ready", "#chart path.series", "a CSS selector that is visible once the page has drawn its data")
	settle := flag.Duration("settle", 3*time.Second, "wait this long after ready (polls, transitions)")
	timeout := flag.Duration("timeout", 60*time.Second, "give up after this long")
	flag.Parse()
	if err := shoot(*url, *out, *width, *height, *ready, *settle, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "screenshot:", err)
		os.Exit(1)
	}
}

func shoot(url, out string, width, height int, ready string, settle, timeout time.Duration) error {
	path, err := browsertest.Path()
	if err != nil {
		return err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // root in containers cannot use the sandbox; the page is our own
		chromedp.WindowSize(width, height),
		chromedp.Flag("headless", "new"),
		chromedp.Flag("hide-scrollbars", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(actx)
	defer cancelTab()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(int64(width), int64(height)),
		chromedp.Navigate(url),
		chromedp.WaitVisible(ready),
		chromedp.Sleep(settle),
	); err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG, lossless
	if err != nil {
		return fmt.Errorf("screenshot of %s: %w", url, err)
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		return err
	}
	fmt.Printf("screenshot: %s (%d KB) of %s\n", out, len(png)/1024, url)
	return nil
}
