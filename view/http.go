package view

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/window"
)

// Querier is what the HTTP API reads; *View implements it, tests use a fake.
type Querier interface {
	Recovered() bool
	Query(q Query) ([]codec.Result, error)
	Get(k window.Key) (codec.Result, bool, error)
	Progress() (Progress, error)
	Uniques(from, to int64) (Range, error)
}

// ErrQuery is returned, wrapped, for a query string or path that does not parse; the API
// answers it with 400.
var ErrQuery = errors.New("view: bad query")

// ErrNoPipeline is what GET /api/v1/health answers where no pipeline runs in the process: the
// page shows it instead of numbers it would have to make up.
var ErrNoPipeline = errors.New("pipeline metrics (frames/s, consumer lag, dead letters) are served only by kuniq run --http")

// MaxLast caps the limit parameter; a query without limit is bounded by the table's retention.
const MaxLast = 100_000

// NewHandler serves the API and the page from q. The API is versioned under /api/v1/ (the
// same routes without v1 are kept for clients of the first API):
//
//	GET /api/v1/windows?granularity=minute[,hour|all]&from=T&to=T&limit=N
//	    JSON array of result records with start in [from, to), sorted by granularity, start;
//	    T is unix seconds or RFC 3339; limit keeps the N latest per granularity.
//	GET /api/v1/windows/{granularity}/{start}
//	    one record; start is unix seconds or RFC 3339 and may be any time inside the window.
//	GET /api/v1/uniques?from=T&to=T
//	    unique users of [from, to) as one JSON object (Range): the union of the fewest
//	    covering windows. 400 with {"error", "boundary", "granularity", "earlier", "later"}
//	    when a boundary does not align to the finest granularity retained there.
//	GET /api/v1/progress   watermark and input partitions' clocks.
//	GET /api/v1/health  404 with ErrNoPipeline's text: the pipeline's metrics live in the
//	    process that runs it (`kuniq run --http` routes this path to them first).
//	GET /healthz        "ok".
//	GET /               the page.
//
// Every route answers 503 until q has recovered, 400 for a query that does not parse, 404
// for a window the table does not hold. Errors are {"error": "..."}.
func NewHandler(q Querier) http.Handler {
	h := &handler{q: q}
	mux := http.NewServeMux()
	for _, prefix := range []string{"/api/v1", "/api"} {
		mux.HandleFunc("GET "+prefix+"/windows", h.windows)
		mux.HandleFunc("GET "+prefix+"/windows/{granularity}/{start}", h.window)
		mux.HandleFunc("GET "+prefix+"/progress", h.progress)
	}
	mux.HandleFunc("GET /api/v1/uniques", h.uniques)
	mux.HandleFunc("GET /api/v1/health", func(w http.ResponseWriter, r *http.Request) {
		httpError(w, http.StatusNotFound, ErrNoPipeline.Error())
	})
	mux.HandleFunc("GET /healthz", h.healthz)
	mux.HandleFunc("GET /{$}", h.page)
	// Browsers ask for an icon; the page has none, and a 404 would be an error in its console.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return mux
}

type handler struct{ q Querier }

// ready answers 503 (and false) while the view recovers: a partial table undercounts.
func (h *handler) ready(w http.ResponseWriter) bool {
	if h.q.Recovered() {
		return true
	}
	w.Header().Set("Retry-After", "2")
	httpError(w, http.StatusServiceUnavailable, "view is recovering the table")
	return false
}

func (h *handler) healthz(w http.ResponseWriter, r *http.Request) {
	if !h.ready(w) {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

func (h *handler) page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", PageCSP)
	if !h.q.Recovered() {
		// The page itself polls and shows "recovering" until the API answers.
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_, _ = w.Write(pageHTML)
}

func (h *handler) windows(w http.ResponseWriter, r *http.Request) {
	if !h.ready(w) {
		return
	}
	qs, err := ParseQuery(r.URL.Query())
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	out := []codec.Result{}
	for _, q := range qs {
		rs, err := h.q.Query(q)
		if err != nil {
			queryError(w, err)
			return
		}
		out = append(out, rs...)
	}
	writeJSON(w, out)
}

func (h *handler) window(w http.ResponseWriter, r *http.Request) {
	if !h.ready(w) {
		return
	}
	k, err := ParseWindow(r.PathValue("granularity"), r.PathValue("start"))
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	res, ok, err := h.q.Get(k)
	if err != nil {
		queryError(w, err)
		return
	}
	if !ok {
		httpError(w, http.StatusNotFound, "no window "+k.String())
		return
	}
	writeJSON(w, res)
}

// rangeErrorJSON is a range that cannot be answered: which boundary, and the possible ones
// around it (absent when the range as a whole is the reason).
type rangeErrorJSON struct {
	Error       string              `json:"error"`
	Boundary    string              `json:"boundary,omitempty"`
	Granularity *window.Granularity `json:"granularity,omitempty"`
	Earlier     *int64              `json:"earlier,omitempty"`
	Later       *int64              `json:"later,omitempty"`
	EarlierTime string              `json:"earlier_time,omitempty"`
	LaterTime   string              `json:"later_time,omitempty"`
}

func (h *handler) uniques(w http.ResponseWriter, r *http.Request) {
	if !h.ready(w) {
		return
	}
	from, to, err := ParseRange(r.URL.Query())
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	res, err := h.q.Uniques(from, to)
	var re *window.RangeError
	switch {
	case errors.As(err, &re):
		out := rangeErrorJSON{Error: err.Error()}
		if re.Boundary != "" {
			g, earlier, later := re.Granularity, re.Earlier, re.Later
			out.Boundary, out.Granularity, out.Earlier, out.Later = re.Boundary, &g, &earlier, &later
			out.EarlierTime, out.LaterTime = stamp(earlier), stamp(later)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(out)
	case err != nil:
		queryError(w, err)
	default:
		writeJSON(w, res)
	}
}

// ParseRange reads the from and to of a range query (both required; unix seconds or RFC
// 3339). Errors wrap ErrQuery.
func ParseRange(v map[string][]string) (from, to int64, err error) {
	for _, p := range []struct {
		name string
		ts   *int64
	}{{"from", &from}, {"to", &to}} {
		vs := v[p.name]
		if len(vs) == 0 || vs[len(vs)-1] == "" {
			return 0, 0, fmt.Errorf("%w: %s is required (unix seconds or RFC 3339)", ErrQuery, p.name)
		}
		if *p.ts, err = ParseTime(vs[len(vs)-1]); err != nil {
			return 0, 0, fmt.Errorf("%s: %w", p.name, err)
		}
	}
	return from, to, nil
}

// progressJSON is Progress on the wire: times absent before the pipeline has any, because
// math.MinInt64 is neither a time nor exact in JavaScript.
type progressJSON struct {
	Partitions    int             `json:"partitions"`
	Watermark     *int64          `json:"watermark"`
	WatermarkTime string          `json:"watermark_time,omitempty"`
	Final         *int64          `json:"final"`
	FinalTime     string          `json:"final_time,omitempty"`
	Open          int             `json:"open"`
	Closing       int             `json:"closing"`
	Pending       int             `json:"pending"`
	Expiring      int             `json:"expiring"`
	Inputs        []inputProgJSON `json:"inputs"`
}

type inputProgJSON struct {
	ID        int32  `json:"id"`
	Watermark *int64 `json:"watermark"`
	MaxTS     *int64 `json:"max_ts"`
	Idle      bool   `json:"idle"`
}

func (h *handler) progress(w http.ResponseWriter, r *http.Request) {
	if !h.ready(w) {
		return
	}
	p, err := h.q.Progress()
	if err != nil {
		queryError(w, err)
		return
	}
	out := progressJSON{Partitions: p.Partitions, Watermark: anchored(p.Watermark), Final: anchored(p.Final),
		Open: p.Open, Closing: p.Closing, Pending: p.Pending, Expiring: p.Expiring, Inputs: []inputProgJSON{}}
	if out.Watermark != nil {
		out.WatermarkTime = time.Unix(p.Watermark, 0).UTC().Format(time.RFC3339)
	}
	if out.Final != nil {
		out.FinalTime = stamp(p.Final)
	}
	for _, s := range p.Inputs {
		out.Inputs = append(out.Inputs, inputProgJSON{ID: s.ID, Watermark: anchored(s.Watermark),
			MaxTS: anchored(s.MaxTS), Idle: s.Idle})
	}
	writeJSON(w, out)
}

// anchored is nil for the "no time yet" sentinels.
func anchored(ts int64) *int64 {
	if ts == math.MinInt64 || ts == math.MaxInt64 {
		return nil
	}
	return &ts
}

// queryError maps a Querier's error: a view that lost recovery or closed is unavailable;
// anything else is ours.
func queryError(w http.ResponseWriter, err error) {
	if errors.Is(err, ErrNotRecovered) || errors.Is(err, ErrClosed) {
		w.Header().Set("Retry-After", "2")
		httpError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	httpError(w, http.StatusInternalServerError, err.Error())
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(struct {
		Error string `json:"error"`
	}{msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

// ParseQuery reads granularity (comma list or "all"; default minute), from, to (unix seconds
// or RFC 3339; default unbounded) and limit (latest N per granularity; default all) into one
// Query per granularity. Errors wrap ErrQuery.
func ParseQuery(v map[string][]string) ([]Query, error) {
	get := func(name string) (string, bool) {
		vs := v[name]
		if len(vs) == 0 {
			return "", false
		}
		return vs[len(vs)-1], true
	}
	gs := []window.Granularity{window.Minute}
	if s, ok := get("granularity"); ok {
		var err error
		if gs, err = window.ParseList(s); err != nil {
			return nil, fmt.Errorf("%w: granularity: %w", ErrQuery, err)
		}
	}
	from, to := int64(math.MinInt64), int64(math.MaxInt64)
	if s, ok := get("from"); ok && s != "" {
		var err error
		if from, err = ParseTime(s); err != nil {
			return nil, fmt.Errorf("from: %w", err)
		}
	}
	if s, ok := get("to"); ok && s != "" {
		var err error
		if to, err = ParseTime(s); err != nil {
			return nil, fmt.Errorf("to: %w", err)
		}
	}
	if from > to {
		return nil, fmt.Errorf("%w: from %d after to %d", ErrQuery, from, to)
	}
	last := 0
	if s, ok := get("limit"); ok && s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLast {
			return nil, fmt.Errorf("%w: limit %q: want 1..%d", ErrQuery, s, MaxLast)
		}
		last = n
	}
	qs := make([]Query, len(gs))
	for i, g := range gs {
		qs[i] = Query{Granularity: g, From: from, To: to, Last: last}
	}
	return qs, nil
}

// ParseWindow reads a window from a granularity name and a time inside it (unix seconds or
// RFC 3339): "hour", "2016-07-11T13:39:44Z" is hour/1468242000. Errors wrap ErrQuery.
func ParseWindow(granularity, at string) (window.Key, error) {
	g, err := window.ParseGranularity(granularity)
	if err != nil {
		return window.Key{}, fmt.Errorf("%w: %w", ErrQuery, err)
	}
	ts, err := ParseTime(at)
	if err != nil {
		return window.Key{}, fmt.Errorf("start: %w", err)
	}
	return window.Key{Granularity: g, Start: g.Start(ts)}, nil
}

// ParseTime reads a time as unix seconds ("1468244340", also negative) or RFC 3339
// ("2016-07-11T13:39:00Z"), within window.MinWindowTS..window.MaxWindowTS so every window math on it is
// exact. Errors wrap ErrQuery.
func ParseTime(s string) (int64, error) {
	s = strings.TrimSpace(s)
	ts, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t, terr := time.Parse(time.RFC3339, s)
		if terr != nil {
			return 0, fmt.Errorf("%w: time %q: want unix seconds or RFC 3339", ErrQuery, s)
		}
		ts = t.Unix()
	}
	if ts < window.MinWindowTS || ts > window.MaxWindowTS {
		return 0, fmt.Errorf("%w: time %q outside %d..%d", ErrQuery, s, window.MinWindowTS, window.MaxWindowTS)
	}
	return ts, nil
}
