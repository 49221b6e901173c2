// Package view is kuniq's query side: a Goka view over the window table of one application
// ("<app>-windows-table", the changelog stage 2 of package processor writes), the queries
// `kuniq view` prints and the HTTP API and page `kuniq serve` answers.
//
// What goes in: the table's rows, decoded by processor.TableCodec. Window rows (key
// "<granularity>/<start>", a *processor.WindowState) become codec.Result records through the
// row's engine.Count.Result, the function stage 2 publishes with: a record read here equals the
// one the pipeline published for the same row state, by construction. Control rows (keys
// "ctl/N", a *processor.Control per stage-2 partition) become a Progress: the watermark and
// every input partition's clock, for display. Uniques answers a range no window matches: the
// union of the sketches of the fewest windows that tile it (window.Cover), using only the
// granularities the table holds and the windows Config.Retention has not deleted.
//
// What it guarantees:
//   - Nothing is answered before the view has recovered, that is, before every partition has
//     caught up with the table's end as it was at startup: queries return ErrNotRecovered and
//     the HTTP API answers 503. A half-recovered table would show windows with too few users.
//   - Open creates no topic: a missing table is ErrNoTable, not an empty answer, so a typo in
//     --app is not mistaken for "no data yet".
//   - Results are sorted by window start, whatever order the table's partitions iterate in
//     (keys sort as text, "minute/999" after "minute/1468244340", so numeric order is restored).
//   - Reads are safe for concurrent use, also while Run shuts down: once the storage starts
//     closing, queries return ErrClosed instead of touching closed LevelDB handles.
//
// Storage: with Config.StateDir set, each partition is a LevelDB in
// <StateDir>/view/<table>.<partition>, kept across restarts so a restart replays only the new
// part of the table. LevelDB locks its directory, and `kuniq run` keeps its table in
// <state-dir>/<app>/<table>.<partition>, so a view and a processor may share one --state-dir
// (unless the app is called "view").
// Without StateDir the rows live in memory and each start replays the whole compacted table,
// which is what a one-shot `kuniq view` wants.
package view
