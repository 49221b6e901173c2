package main

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/internal/kafkatest"
	"github.com/kuniq/kuniq/window"
)

// TestIntegrationProtobufInput: the same generated frames (with bad ones), ingested once as
// JSON into one topic and once with `ingest --format protobuf` into another, and counted by
// `kuniq run --input-format json` and `--input-format protobuf`: every window ends final with
// the same uniques and frames.
func TestIntegrationProtobufInput(t *testing.T) {
	kc := kafkatest.Config(t)
	brokers := strings.Join(kc.Brokers, ",")
	bin := kuniqBinary(t)
	const n = 6000
	frames := genFrames(t, bin, n)
	windows := map[string]map[window.Key]codec.Result{}
	dead := map[string]int{}
	for _, format := range []string{"json", "protobuf"} {
		topic, app := kafkatest.Name(t, "frames-"+format), kafkatest.Name(t, "app-"+format)
		out := runBin(t, nil, bin, "ingest", "--brokers", brokers, "--input", topic, "--partitions", "2", "--progress", "0", "--format", format, frames)
		if !strings.Contains(out, fmt.Sprintf("kuniq ingest: %d frames", n)) {
			t.Fatalf("ingest --format %s: %s", format, out)
		}
		if format == "protobuf" && !strings.Contains(out, "no frame produced as they are") {
			t.Errorf("ingest --format protobuf does not count the lines that are no frame: %s", out)
		}
		run := startProc(t, nil, bin, "run", "--brokers", brokers, "--app", app, "--input", topic, "--output", app+"-out", "--dlq", app+"-dlq",
			"--partitions", "2", "--state-dir", t.TempDir(), "--idle-timeout", "2s", "--granularity", "minute,hour", "--input-format", format)
		deadline := time.Now().Add(3 * time.Minute)
		for {
			var counted int64
			final := true
			got := map[window.Key]codec.Result{}
			b, err := exec.Command(bin, "view", "--brokers", brokers, "--app", app, "--granularity", "all", "--json").Output()
			if err == nil {
				for line := range strings.Lines(string(b)) {
					var r codec.Result
					if err := json.Unmarshal([]byte(line), &r); err != nil {
						t.Fatalf("view --json line %q: %v", line, err)
					}
					got[r.Key()] = r
					if r.Granularity.String() == "minute" {
						counted += r.Frames
					}
					final = final && r.Final
				}
				recs, err := kc.ReadAll(app + "-dlq")
				if err == nil && final && counted+int64(len(recs)) == n {
					windows[format], dead[format] = got, len(recs)
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: after 3 min the minute windows hold %d frames (final %v, view err %v), want %d with the dead letters", format, counted, final, err, n)
			}
			time.Sleep(time.Second)
		}
		run.stop(t)
	}
	j, p := windows["json"], windows["protobuf"]
	if len(j) == 0 || len(j) != len(p) {
		t.Fatalf("json: %d windows, protobuf: %d", len(j), len(p))
	}
	for k, jr := range j {
		pr, ok := p[k]
		if !ok || pr.Uniques != jr.Uniques || pr.Frames != jr.Frames {
			t.Errorf("window %s: protobuf %d uniques of %d frames (present %v), json %d of %d", k, pr.Uniques, pr.Frames, ok, jr.Uniques, jr.Frames)
		}
	}
	if dead["json"] == 0 || dead["json"] != dead["protobuf"] {
		t.Errorf("dead letters: json %d, protobuf %d; want the same, not 0", dead["json"], dead["protobuf"])
	}
}
