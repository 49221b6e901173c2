package view

import (
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/window"
)

// fakeQuerier answers from a list of results, the way View does: sorted, range, last. It is
// safe for concurrent use, so a browser may poll it while a test adds a window (put).
type fakeQuerier struct {
	mu        sync.Mutex
	recovered atomic.Bool
	results   []codec.Result
	progress  Progress
	err       error // returned by every query when set
	queries   []Query
}

func (f *fakeQuerier) Recovered() bool { return f.recovered.Load() }

// put adds r, or replaces the result of its window, keeping results sorted by start.
func (f *fakeQuerier) put(r codec.Result) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.results = slices.DeleteFunc(f.results, func(o codec.Result) bool { return o.Key() == r.Key() })
	f.results = append(f.results, r)
	slices.SortStableFunc(f.results, func(a, b codec.Result) int { return cmp.Compare(a.Start, b.Start) })
}

func (f *fakeQuerier) Query(q Query) ([]codec.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	if f.err != nil {
		return nil, f.err
	}
	var out []codec.Result
	for _, r := range f.results {
		if r.Granularity == q.Granularity && r.Start >= q.From && r.Start < q.To {
			out = append(out, r)
		}
	}
	if q.Last > 0 && len(out) > q.Last {
		out = out[len(out)-q.Last:]
	}
	return out, nil
}

func (f *fakeQuerier) Get(k window.Key) (codec.Result, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.get(k)
}

func (f *fakeQuerier) get(k window.Key) (codec.Result, bool, error) {
	if f.err != nil {
		return codec.Result{}, false, f.err
	}
	for _, r := range f.results {
		if r.Key() == k {
			return r, true, nil
		}
	}
	return codec.Result{}, false, nil
}

func (f *fakeQuerier) Progress() (Progress, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.progress, f.err
}

// Uniques answers the sum of the minute windows' users in range: enough to check the wiring.
func (f *fakeQuerier) Uniques(from, to int64) (Range, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return Range{}, f.err
	}
	keys, err := window.Cover(from, to, window.Retained{Granularities: []window.Granularity{window.Minute}})
	if err != nil {
		return Range{}, err
	}
	out := Range{From: from, To: to, FromTime: stamp(from), ToTime: stamp(to), Windows: keys, Complete: true, Precision: 14, StdError: 0.0001221}
	for _, k := range keys {
		r, ok, _ := f.get(k)
		out.Uniques += r.Uniques
		out.Frames += r.Frames
		out.Complete = out.Complete && ok && r.Final
	}
	return out, nil
}

func newFake() *fakeQuerier {
	f := &fakeQuerier{progress: Progress{Partitions: 2, Watermark: 1468244395, Open: 1,
		Inputs: []InputProgress{{ID: 0, Watermark: 1468244395, MaxTS: 1468244400},
			{ID: 1, Watermark: math.MinInt64, MaxTS: math.MinInt64}}}}
	for i, start := range []int64{1468244340, 1468244400, 1468244460} {
		r := codec.NewResult(minute(start), uint64(100*(i+1)), int64(150*(i+1)))
		r.Final = i < 2
		f.results = append(f.results, r)
	}
	f.results = append(f.results, codec.NewResult(hour(1468242000), 250, 450))
	f.recovered.Store(true)
	return f
}

func do(t *testing.T, h http.Handler, target string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec.Code, rec.Body.String()
}

func decodeResults(t *testing.T, body string) []codec.Result {
	t.Helper()
	var rs []codec.Result
	if err := json.Unmarshal([]byte(body), &rs); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	return rs
}

// Every route answers 503 before recovery, with the page still shown so it can poll.
func TestHandlerUnavailableBeforeRecovery(t *testing.T) {
	f := newFake()
	f.recovered.Store(false)
	h := NewHandler(f)
	for _, target := range []string{"/healthz", "/api/windows", "/api/windows?granularity=hour",
		"/api/windows/minute/1468244340", "/api/progress", "/", "/api/windows?from=bogus"} {
		code, body := do(t, h, target)
		if code != http.StatusServiceUnavailable {
			t.Errorf("GET %s before recovery = %d, want 503", target, code)
		}
		if target == "/" && !strings.Contains(body, "<svg") {
			t.Errorf("GET / before recovery has no page: %.80q", body)
		}
	}
	if len(f.queries) != 0 {
		t.Errorf("querier was queried %d times before recovery", len(f.queries))
	}
	f.recovered.Store(true)
	if code, body := do(t, h, "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("GET /healthz after recovery = %d %q, want 200 \"ok\\n\"", code, body)
	}
}

func TestHandlerWindows(t *testing.T) {
	h := NewHandler(newFake())
	tests := []struct {
		target string
		want   []int64
	}{
		{"/api/windows", []int64{1468244340, 1468244400, 1468244460}},
		{"/api/windows?granularity=minute&from=1468244400", []int64{1468244400, 1468244460}},
		{"/api/windows?granularity=minute&from=2016-07-11T13:40:00Z&to=2016-07-11T13:41:00Z", []int64{1468244400}},
		{"/api/windows?granularity=minute&limit=1", []int64{1468244460}},
		{"/api/windows?granularity=hour", []int64{1468242000}},
		{"/api/windows?granularity=minute,hour&limit=1", []int64{1468244460, 1468242000}},
		{"/api/windows?granularity=all&from=1468244400", []int64{1468244400, 1468244460}},
		{"/api/windows?granularity=day", []int64{}},
		{"/api/windows?from=&to=", []int64{1468244340, 1468244400, 1468244460}},
	}
	for _, tc := range tests {
		code, body := do(t, h, tc.target)
		if code != http.StatusOK {
			t.Errorf("GET %s = %d %s, want 200", tc.target, code, body)
			continue
		}
		if got := starts(decodeResults(t, body)); !slices.Equal(got, tc.want) {
			t.Errorf("GET %s starts = %v, want %v", tc.target, got, tc.want)
		}
		if !strings.HasPrefix(body, "[") {
			t.Errorf("GET %s = %q, want a JSON array (also when empty)", tc.target, body)
		}
	}
}

func TestHandlerBadQueries(t *testing.T) {
	h := NewHandler(newFake())
	for _, target := range []string{
		"/api/windows?granularity=fortnight",
		"/api/windows?granularity=",
		"/api/windows?granularity=minute,,hour",
		"/api/windows?from=yesterday",
		"/api/windows?to=2016-07-11",
		"/api/windows?from=1468244400&to=1468244340",
		"/api/windows?from=99999999999999999999",
		"/api/windows?from=-9223372036854775808",
		"/api/windows?limit=0",
		"/api/windows?limit=-3",
		"/api/windows?limit=ten",
		"/api/windows?limit=100001",
		"/api/windows/fortnight/1468244340",
		"/api/windows/minute/soon",
		"/api/windows/minute/9223372036854775807",
	} {
		code, body := do(t, h, target)
		if code != http.StatusBadRequest {
			t.Errorf("GET %s = %d, want 400", target, code)
			continue
		}
		var e struct{ Error string }
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
			t.Errorf("GET %s body = %q, want {\"error\": ...}", target, body)
		}
		// A bad granularity is answered with the ones there are.
		if strings.Contains(target, "granularity=") || strings.Contains(target, "fortnight") {
			if !strings.Contains(e.Error, "minute, hour, day, week, month, year") {
				t.Errorf("GET %s error %q does not list the granularities", target, e.Error)
			}
		}
	}
}

func TestHandlerWindow(t *testing.T) {
	h := NewHandler(newFake())
	tests := []struct {
		target    string
		code      int
		wantStart int64
	}{
		{"/api/windows/minute/1468244400", http.StatusOK, 1468244400},
		{"/api/windows/minute/1468244433", http.StatusOK, 1468244400}, // inside the window
		{"/api/windows/minute/2016-07-11T13:39:00Z", http.StatusOK, 1468244340},
		{"/api/windows/hour/2016-07-11T13:39:44Z", http.StatusOK, 1468242000},
		{"/api/windows/Minute/1468244340", http.StatusOK, 1468244340},
		{"/api/windows/minute/1468244520", http.StatusNotFound, 0},
		{"/api/windows/day/1468244340", http.StatusNotFound, 0},
	}
	for _, tc := range tests {
		code, body := do(t, h, tc.target)
		if code != tc.code {
			t.Errorf("GET %s = %d %s, want %d", tc.target, code, body, tc.code)
			continue
		}
		if code != http.StatusOK {
			continue
		}
		r, err := codec.ParseResult([]byte(body))
		if err != nil {
			t.Errorf("GET %s body %q: %v", tc.target, body, err)
		} else if r.Start != tc.wantStart {
			t.Errorf("GET %s start = %d, want %d", tc.target, r.Start, tc.wantStart)
		}
	}
}

func TestHandlerProgress(t *testing.T) {
	h := NewHandler(newFake())
	code, body := do(t, h, "/api/progress")
	if code != http.StatusOK {
		t.Fatalf("GET /api/progress = %d %s", code, body)
	}
	var p struct {
		Partitions    int    `json:"partitions"`
		Watermark     *int64 `json:"watermark"`
		WatermarkTime string `json:"watermark_time"`
		Inputs        []struct {
			ID        int32  `json:"id"`
			Watermark *int64 `json:"watermark"`
		} `json:"inputs"`
	}
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	if p.Partitions != 2 || p.Watermark == nil || *p.Watermark != 1468244395 || p.WatermarkTime != "2016-07-11T13:39:55Z" {
		t.Errorf("progress = %s, want 2 partitions, watermark 1468244395 (2016-07-11T13:39:55Z)", body)
	}
	// An unanchored input partition has no watermark: null, not MinInt64.
	if len(p.Inputs) != 2 || p.Inputs[1].Watermark != nil {
		t.Errorf("progress inputs = %s, want input 1 with a null watermark", body)
	}
}

func TestHandlerQuerierErrors(t *testing.T) {
	tests := []struct {
		err  error
		code int
	}{
		{ErrNotRecovered, http.StatusServiceUnavailable},
		{ErrClosed, http.StatusServiceUnavailable},
		{errors.New("leveldb: corrupt"), http.StatusInternalServerError},
	}
	for _, tc := range tests {
		f := newFake()
		f.err = tc.err
		h := NewHandler(f)
		for _, target := range []string{"/api/windows", "/api/windows/minute/1468244340", "/api/progress"} {
			if code, _ := do(t, h, target); code != tc.code {
				t.Errorf("GET %s with querier error %v = %d, want %d", target, tc.err, code, tc.code)
			}
		}
	}
}

func TestHandlerPage(t *testing.T) {
	srv := httptest.NewServer(NewHandler(newFake()))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	page := string(body)
	// Self-contained: it fetches only its own API and loads nothing from elsewhere.
	for _, want := range []string{"/api/v1/windows?", "/api/v1/progress", "/api/v1/uniques?", "/api/v1/health", "POLL_MS = 2000", "<svg"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"http://", "https://", "src=", "<link"} {
		if strings.Contains(strings.ReplaceAll(page, "http://www.w3.org/2000/svg", ""), bad) {
			t.Errorf("page references an external asset (%q)", bad)
		}
	}
	if code, _ := do(t, NewHandler(newFake()), "/nothing"); code != http.StatusNotFound {
		t.Errorf("GET /nothing = %d, want 404", code)
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1468244340", 1468244340, true},
		{" 1468244340 ", 1468244340, true},
		{"-60", -60, true},
		{"0", 0, true},
		{"2016-07-11T13:39:00Z", 1468244340, true},
		{"2016-07-11T15:39:00+02:00", 1468244340, true},
		{"2016-07-11", 0, false},
		{"", 0, false},
		{"1e9", 0, false},
		{"9223372036854775807", 0, false},
	}
	for _, tc := range tests {
		got, err := ParseTime(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseTime(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrQuery) {
			t.Errorf("ParseTime(%q) error %v does not wrap ErrQuery", tc.in, err)
		}
	}
}

// TestPageCSP: the page's policy allows exactly its own inline script and style, by hash, and
// nothing from elsewhere.
func TestPageCSP(t *testing.T) {
	rec := httptest.NewRecorder()
	f := &fakeQuerier{}
	f.recovered.Store(true)
	NewHandler(f).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	csp := rec.Header().Get("Content-Security-Policy")
	body := rec.Body.String()
	for _, tag := range []string{"script", "style"} {
		open, close := "<"+tag+">", "</"+tag+">"
		i, j := strings.Index(body, open), strings.Index(body, close)
		if i < 0 || j < i {
			t.Fatalf("page has no inline <%s>", tag)
		}
		sum := sha256.Sum256([]byte(body[i+len(open) : j]))
		want := tag + "-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*", "http:"} {
		if strings.Contains(csp, bad) {
			t.Errorf("CSP %q allows %s", csp, bad)
		}
	}
	if !strings.HasPrefix(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q: want default-src 'none' and frame-ancestors 'none'", csp)
	}
}

func TestHandlerUniques(t *testing.T) {
	h := NewHandler(newFake())
	code, body := do(t, h, "/api/v1/uniques?from=1468244340&to=2016-07-11T13:41:00Z")
	if code != http.StatusOK {
		t.Fatalf("GET uniques = %d %s", code, body)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"from": 1468244340.0, "to": 1468244460.0, "from_time": "2016-07-11T13:39:00Z", "to_time": "2016-07-11T13:41:00Z",
		"uniques": 300.0, "std_error": 0.0001221, "precision": 14.0, "frames": 450.0,
		"windows": []any{"minute/1468244340", "minute/1468244400"}, "complete": true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GET uniques = %v, want %v", got, want)
	}

	for _, tc := range []struct {
		name, target string
		wantFields   map[string]any
	}{
		{"no from", "/api/v1/uniques?to=1468244460", nil},
		{"bad to", "/api/v1/uniques?from=1468244340&to=soon", nil},
		{"from inside a minute", "/api/v1/uniques?from=1468244350&to=1468244460", map[string]any{
			"boundary": "from", "granularity": "minute", "earlier": 1468244340.0, "later": 1468244400.0,
			"earlier_time": "2016-07-11T13:39:00Z", "later_time": "2016-07-11T13:40:00Z"}},
		{"reversed", "/api/v1/uniques?from=1468244460&to=1468244340", map[string]any{}},
	} {
		code, body := do(t, h, tc.target)
		if code != http.StatusBadRequest {
			t.Errorf("%s: GET %s = %d %s, want 400", tc.name, tc.target, code, body)
			continue
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(body), &e); err != nil || e["error"] == "" {
			t.Errorf("%s: body %s is not an error object", tc.name, body)
		}
		for k, v := range tc.wantFields {
			if e[k] != v {
				t.Errorf("%s: %s = %v, want %v (%s)", tc.name, k, e[k], v, body)
			}
		}
	}
}

// TestHandlerV1 checks that every route of the first API answers the same under /api/v1.
func TestHandlerV1(t *testing.T) {
	h := NewHandler(newFake())
	for _, path := range []string{"/windows?granularity=all", "/windows?granularity=minute&from=1468244400&limit=1",
		"/windows/hour/1468242000", "/progress", "/windows/minute/7"} {
		code, body := do(t, h, "/api"+path)
		codeV1, bodyV1 := do(t, h, "/api/v1"+path)
		if code != codeV1 || body != bodyV1 {
			t.Errorf("GET /api%s = %d %s, but /api/v1%s = %d %s", path, code, body, path, codeV1, bodyV1)
		}
	}
}

// TestHandlerNoPipeline: where no pipeline runs, the health route says so (404 with
// ErrNoPipeline) rather than answering numbers, and the browser's icon request is not an error.
func TestHandlerNoPipeline(t *testing.T) {
	h := NewHandler(newFake())
	for _, tc := range []struct {
		target string
		code   int
		body   string
	}{
		{"/api/v1/health", http.StatusNotFound, `{"error":"` + ErrNoPipeline.Error() + `"}` + "\n"},
		{"/favicon.ico", http.StatusNoContent, ""},
	} {
		if code, body := do(t, h, tc.target); code != tc.code || body != tc.body {
			t.Errorf("GET %s = %d %q, want %d %q", tc.target, code, body, tc.code, tc.body)
		}
	}
}
