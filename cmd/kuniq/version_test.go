package main

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionCommandAndFlagAgree(t *testing.T) {
	var outs []string
	for _, args := range [][]string{{"--version"}, {"-version"}, {"version"}} {
		out, errs, err := kuniq(t, args...)
		if err != nil || errs != "" {
			t.Fatalf("kuniq %s: err %v, stderr %q; want success and nothing on stderr", args[0], err, errs)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 3 || !strings.HasPrefix(lines[0], "kuniq ") || !strings.HasPrefix(lines[1], "commit ") {
			t.Errorf("kuniq %s = %q, want three lines: kuniq VERSION, commit REV, the Go version", args[0], out)
		}
		if want := runtime.GOOS + "/" + runtime.GOARCH; !strings.Contains(lines[len(lines)-1], want) || !strings.Contains(out, "go1.") {
			t.Errorf("kuniq %s = %q, want the Go version and %s", args[0], out, want)
		}
		outs = append(outs, out)
	}
	if outs[0] != outs[1] || outs[0] != outs[2] {
		t.Errorf("--version, -version and version differ: %q", outs)
	}
	if _, _, err := kuniq(t, "version", "extra"); err == nil {
		t.Errorf("kuniq version extra: err = nil, want an error")
	}
}

func TestVersionText(t *testing.T) {
	info := func(version string, settings ...debug.BuildSetting) *debug.BuildInfo {
		return &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Path: "github.com/kuniq/kuniq", Version: version}, Settings: settings}
	}
	platform := runtime.GOOS + "/" + runtime.GOARCH
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{"no build info", nil, false, "kuniq (devel)\ncommit unknown\n" + runtime.Version() + " " + platform + "\n"},
		{"tagged, clean", info("v1.2.3",
			debug.BuildSetting{Key: "vcs.revision", Value: "0123abcd"},
			debug.BuildSetting{Key: "vcs.time", Value: "2025-01-02T03:04:05Z"},
			debug.BuildSetting{Key: "vcs.modified", Value: "false"}), true,
			"kuniq v1.2.3\ncommit 0123abcd (2025-01-02T03:04:05Z)\ngo1.99.1 " + platform + "\n"},
		{"modified tree", info("(devel)",
			debug.BuildSetting{Key: "vcs.revision", Value: "0123abcd"},
			debug.BuildSetting{Key: "vcs.modified", Value: "true"}), true,
			"kuniq (devel)\ncommit 0123abcd (modified)\ngo1.99.1 " + platform + "\n"},
		{"no vcs stamp", info(""), true, "kuniq (devel)\ncommit unknown\ngo1.99.1 " + platform + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionText(tt.bi, tt.ok); got != tt.want {
				t.Errorf("versionText = %q, want %q", got, tt.want)
			}
		})
	}
}
