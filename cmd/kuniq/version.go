package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// runVersion prints what the binary was built from: the module version, the VCS commit (and
// whether the tree had uncommitted changes) and the Go toolchain, all from the build info the
// go command embeds.
func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", "version  (also: kuniq --version)", stdout)
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("version takes no arguments, got %q", fs.Args())
	}
	fmt.Fprint(stdout, versionText(debug.ReadBuildInfo()))
	return nil
}

// versionText renders build info as three lines:
//
//	kuniq v1.2.3
//	commit 0123abcd… (2025-01-02T03:04:05Z, modified)
//	go1.26.8 linux/amd64
func versionText(bi *debug.BuildInfo, ok bool) string {
	version, commit, when, modified := "(devel)", "unknown", "", false
	goVersion := runtime.Version()
	if ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	detail := when
	if modified {
		detail = join(detail, "modified")
	}
	if detail != "" {
		commit += " (" + detail + ")"
	}
	return fmt.Sprintf("kuniq %s\ncommit %s\n%s %s/%s\n", version, commit, goVersion, runtime.GOOS, runtime.GOARCH)
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + ", " + b
}
