package view

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/internal/browsertest"
	"github.com/kuniq/kuniq/metrics"
	"github.com/kuniq/kuniq/window"
)

// pageT0 is the first minute of the page's fixture: 2016-07-11 13:39 UTC, the challenge's day.
const pageT0 = 1468244340

// pageFixture is a table as the page sees it through the API: four adjacent final minutes
// (the first closed, the third corrected), a gap of six minutes without frames, a final minute
// and the open one; two hours, the second open; one day, open.
func pageFixture() *fakeQuerier {
	f := &fakeQuerier{progress: Progress{Partitions: 4, Watermark: pageT0 + 655, Final: pageT0 + 655, Open: 3,
		Inputs: []InputProgress{{ID: 0, Watermark: pageT0 + 655, MaxTS: pageT0 + 660}, {ID: 1, Watermark: pageT0 + 650, MaxTS: pageT0 + 655, Idle: true}}}}
	for _, w := range []struct {
		start   int64
		uniques uint64
		final   bool
	}{{0, 1200, true}, {60, 1350, true}, {120, 1280, true}, {180, 1420, true}, {600, 900, true}, {660, 640, false}} {
		r := codec.NewResult(minute(pageT0+w.start), w.uniques, int64(w.uniques)*3/2)
		r.Final, r.Closed = w.final, w.start == 0
		if w.start == 120 {
			r.Revision, r.LateFrames = 1, 7
		}
		f.results = append(f.results, r)
	}
	h := codec.NewResult(hour(1468242000), 4100, 6000)
	h.Final = true
	f.results = append(f.results, h, codec.NewResult(hour(1468245600), 1500, 2100),
		codec.NewResult(window.Key{Granularity: window.Day, Start: 1468195200}, 5300, 8100))
	f.recovered.Store(true)
	return f
}

// circle is a point of the chart as the browser laid it out.
type circle struct {
	CX    float64 `json:"cx"`
	Start int64   `json:"start"`
	Class string  `json:"class"`
}

const circlesJS = `Array.from(document.querySelectorAll("#chart circle")).map(c =>
  ({cx: Number(c.getAttribute("cx")), start: Number(c.dataset.start), class: c.getAttribute("class")}))`

// TestPageInBrowser loads the page in a real headless Chromium under its own
// Content-Security-Policy, against the API answering the fixture, and checks what a user sees:
// the chart's points on a time axis, hover, granularity, live updates, the range form and its
// errors, and the health panel's honesty where no pipeline runs. KUNIQ_PAGE_SCREENSHOT=FILE
// also saves a screenshot.
func TestPageInBrowser(t *testing.T) {
	b := browsertest.New(t)
	f := pageFixture()
	h := NewHandler(f)
	srv := httptest.NewServer(h)
	defer srv.Close()
	// The answers the page handles: no pipeline here (asked once), and the bad range below.
	b.Expected = []string{"404 (Not Found) " + srv.URL + "/api/v1/health", "400 (Bad Request) " + srv.URL + "/api/v1/uniques?"}

	b.Do(t, chromedp.Navigate(srv.URL+"/"))
	b.Until(t, 10*time.Second, "six minute points", `document.querySelectorAll("#chart circle").length === 6`)

	t.Run("points on a time axis", func(t *testing.T) {
		cs := browsertest.Eval[[]circle](t, b, circlesJS)
		var gotStarts []int64
		for _, c := range cs {
			gotStarts = append(gotStarts, c.Start)
		}
		want := []int64{pageT0, pageT0 + 60, pageT0 + 120, pageT0 + 180, pageT0 + 600, pageT0 + 660}
		if !slices.Equal(gotStarts, want) {
			t.Fatalf("points' starts = %v, want %v", gotStarts, want)
		}
		// x is time: the same pixels per second between every pair of points, so the six
		// minutes without frames are six times the distance of one minute.
		perSecond := (cs[1].CX - cs[0].CX) / 60
		if perSecond <= 0 {
			t.Fatalf("cx not increasing: %v", cs)
		}
		for i := 1; i < len(cs); i++ {
			dx, dt := cs[i].CX-cs[i-1].CX, float64(cs[i].Start-cs[i-1].Start)
			if math.Abs(dx-perSecond*dt) > 0.25 {
				t.Errorf("points %d-%d: dx %.1f for %v s, want %.1f (x proportional to time)", i-1, i, dx, dt, perSecond*dt)
			}
		}
		if gap, step := cs[4].CX-cs[3].CX, cs[1].CX-cs[0].CX; math.Abs(gap/step-7) > 0.01 {
			t.Errorf("gap of 7 minutes is %.2f× one minute, want 7", gap/step)
		}
		classes := []string{"closed", "final", "final", "final", "final", "open"}
		for i, c := range cs {
			if c.Class != classes[i] {
				t.Errorf("point %d class %q, want %q", i, c.Class, classes[i])
			}
		}
		// The line breaks at the gap: two solid runs, and a dashed segment to the open window.
		if d := browsertest.Eval[string](t, b, `document.querySelector("#chart path.series").getAttribute("d")`); strings.Count(d, "M") != 2 {
			t.Errorf("series path %q: want 2 runs (broken at the gap)", d)
		}
		open := browsertest.Eval[string](t, b, `document.getElementById("open").textContent`)
		if !strings.Contains(open, "640") || !strings.Contains(open, "provisional") {
			t.Errorf("open window card = %q, want its 640 users marked provisional", open)
		}
	})

	t.Run("hover shows the window's numbers", func(t *testing.T) {
		type pt struct{ X, Y float64 }
		p := browsertest.Eval[pt](t, b, `(() => { const r = document.querySelector('#chart circle[data-start="`+fmt.Sprint(pageT0+120)+`"]').getBoundingClientRect();
  return {X: r.x + r.width / 2, Y: r.y + r.height / 2}; })()`)
		b.Do(t, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, p.X, p.Y))
		b.Until(t, 2*time.Second, "tooltip", `document.getElementById("tip").style.display === "block"`)
		tip := browsertest.Eval[string](t, b, `document.getElementById("tip").textContent`)
		for _, want := range []string{"minute 2016-07-11 13:41 – 13:42 UTC", "1,280 unique users", "1,920 frames", "revision 1", "7 late", "final"} {
			if !strings.Contains(tip, want) {
				t.Errorf("tooltip %q lacks %q", tip, want)
			}
		}
	})

	t.Run("granularity switch", func(t *testing.T) {
		b.Do(t, chromedp.Click(chromedp.CSS(`#granularity button[data-g="hour"]`)))
		b.Until(t, 5*time.Second, "two hour points", `document.querySelectorAll("#chart circle").length === 2`)
		cs := browsertest.Eval[[]circle](t, b, circlesJS)
		if cs[0].Start != 1468242000 || cs[1].Start != 1468245600 || cs[1].Class != "open" {
			t.Errorf("hour points = %v, want 1468242000 final and 1468245600 open", cs)
		}
		b.Do(t, chromedp.Click(chromedp.CSS(`#granularity button[data-g="minute"]`)))
		b.Until(t, 5*time.Second, "back to minutes", `document.querySelectorAll("#chart circle").length === 6`)
	})

	t.Run("a new window appears live", func(t *testing.T) {
		closed := codec.NewResult(minute(pageT0+660), 700, 1050)
		closed.Final = true
		f.put(closed)
		f.put(codec.NewResult(minute(pageT0+720), 210, 300))
		b.Until(t, 6*time.Second, "the new minute", `document.querySelector('#chart circle[data-start="`+fmt.Sprint(pageT0+720)+`"]') !== null`)
		b.Until(t, 3*time.Second, "the previous one final", `document.querySelector('#chart circle[data-start="`+fmt.Sprint(pageT0+660)+`"]').getAttribute("class") === "final"`)
	})

	t.Run("unique users between A and B", func(t *testing.T) {
		from, to := stamp(pageT0), stamp(pageT0+240)
		_, body := do(t, h, "/api/v1/uniques?from="+from+"&to="+to)
		var want Range
		if err := json.Unmarshal([]byte(body), &want); err != nil {
			t.Fatal(err)
		}
		b.Do(t, chromedp.SetValue(chromedp.ID("ufrom"), from), chromedp.SetValue(chromedp.ID("uto"), to),
			chromedp.Click(chromedp.CSS("#uniquesform button")))
		b.Until(t, 5*time.Second, "the answer", `document.querySelector("#answer .n") !== null`)
		n := browsertest.Eval[string](t, b, `document.querySelector("#answer .n").textContent`)
		if n != "5,250" || want.Uniques != 5250 {
			t.Errorf("answer %q (API %d), want 5,250", n, want.Uniques)
		}
		answer := browsertest.Eval[string](t, b, `document.getElementById("answer").textContent`)
		for _, s := range []string{"± 1 (0.012 %)", "complete", "4 windows merged"} {
			if !strings.Contains(answer, s) {
				t.Errorf("answer %q lacks %q", answer, s)
			}
		}
		if browsertest.Eval[int](t, b, `document.querySelectorAll("#errbar rect.band").length`) != 1 {
			t.Error("no error bar")
		}
	})

	t.Run("a bad range shows the API's error", func(t *testing.T) {
		from, to := "2016-07-11T13:39:30Z", stamp(pageT0+240)
		code, body := do(t, h, "/api/v1/uniques?from="+from+"&to="+to)
		var e struct{ Error string }
		if err := json.Unmarshal([]byte(body), &e); err != nil || code != http.StatusBadRequest {
			t.Fatalf("API = %d %s, want 400", code, body)
		}
		b.Do(t, chromedp.SetValue(chromedp.ID("ufrom"), from), chromedp.Click(chromedp.CSS("#uniquesform button")))
		b.Until(t, 5*time.Second, "the error", `document.querySelector("#answer .err") !== null`)
		if got := browsertest.Eval[string](t, b, `document.querySelector("#answer .err").textContent`); got != e.Error {
			t.Errorf("page error %q, want the API's %q", got, e.Error)
		}
	})

	t.Run("no pipeline metrics where none run", func(t *testing.T) {
		b.Until(t, 5*time.Second, "the note", `document.getElementById("pipenote").textContent.includes("only by kuniq run --http")`)
		if n := browsertest.Eval[int](t, b, `document.querySelectorAll("#pipeline .tile").length`); n != 0 {
			t.Errorf("%d pipeline tiles shown without a pipeline", n)
		}
		if p := browsertest.Eval[string](t, b, `document.getElementById("progress").textContent`); !strings.Contains(p, "2016-07-11 13:49:55") {
			t.Errorf("progress %q lacks the watermark", p)
		}
	})

	if path := os.Getenv("KUNIQ_PAGE_SCREENSHOT"); path != "" {
		b.Screenshot(t, path)
	}
	if ps := b.Problems(); len(ps) > 0 {
		t.Errorf("the page caused console errors or CSP violations: %q", ps)
	}

	// The check above can see a violation: an inline style attribute is one.
	b.Do(t, chromedp.Evaluate[chromedp.Void](`document.body.setAttribute("style", "color: red")`))
	b.Until(t, 2*time.Second, "the control violation", `window.__cspViolations.length > 0`)
}

// TestPageInBrowserWithPipeline: where a pipeline runs (kuniq run --http routes
// /api/v1/health to its metrics), the page shows its numbers, and frames/s from successive
// samples of kuniq_frames_total.
func TestPageInBrowserWithPipeline(t *testing.T) {
	b := browsertest.New(t)
	m := metrics.New()
	m.Acked(5000, map[string]int64{"late": 4, "syntax": 9})
	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/health", m.HealthHandler())
	mux.Handle("/", NewHandler(pageFixture()))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	// 100 frames every 100 ms: about 1,000 frames/s while the page samples.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				m.Acked(100, nil)
			}
		}
	}()

	b.Do(t, chromedp.Navigate(srv.URL+"/"))
	const rateJS = `(() => { const t = Array.from(document.querySelectorAll("#pipeline .tile")).find(t => t.firstChild.textContent === "frames/s");
  return t ? Number(t.lastChild.textContent.replace(/,/g, "")) : NaN; })()`
	b.Until(t, 8*time.Second, "a frames/s from two samples", `(`+rateJS+`) > 0`)
	if rate := browsertest.Eval[float64](t, b, rateJS); rate < 400 || rate > 2500 {
		t.Errorf("frames/s = %v, want about 1,000", rate)
	}
	tiles := browsertest.Eval[string](t, b, `document.getElementById("pipeline").textContent`)
	for _, want := range []string{"consumer lag0 records", "dead letters13", "readyno"} {
		if !strings.Contains(tiles, want) {
			t.Errorf("pipeline tiles %q lack %q", tiles, want)
		}
	}
	if dl := browsertest.Eval[string](t, b, `document.getElementById("deadletters").textContent`); !strings.Contains(dl, "late4") || !strings.Contains(dl, "syntax9") {
		t.Errorf("dead letters by reason = %q, want late 4 and syntax 9", dl)
	}
	if ps := b.Problems(); len(ps) > 0 {
		t.Errorf("the page caused console errors or CSP violations: %q", ps)
	}
}
