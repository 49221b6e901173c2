package doccheck

import (
	"bufio"
	"errors"
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// root is the module root, seen from this package's directory.
const root = "../.."

// externalNames are the names docs/design.md's table uses for the modules kuniq imports,
// by import path prefix. A new dependency needs a name here and in the table.
var externalNames = map[string]string{
	"github.com/lovoo/goka":               "goka",
	"github.com/IBM/sarama":               "sarama",
	"github.com/axiomhq/hyperloglog":      "axiomhq/hyperloglog",
	"github.com/dgryski/go-metro":         "go-metro",
	"golang.org/x/sync/errgroup":          "errgroup",
	"github.com/syndtr/goleveldb":         "goleveldb",
	"github.com/xdg-go/scram":             "xdg-go/scram",
	"github.com/prometheus/client_golang": "client_golang",
	"google.golang.org/protobuf":          "protobuf",
	"github.com/prometheus/client_model":  "client_model",
	"github.com/chromedp":                 "chromedp",
}

// modulePath reads the module's path from go.mod.
func modulePath(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if p, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.TrimSpace(p)
		}
	}
	t.Fatal("go.mod names no module")
	return ""
}

// imports returns, per package of the module (its path relative to the root), what its
// non-test files import, in the table's names: kuniq packages by relative path, modules by
// externalNames, the standard library left out. scripts/ (tools) and testdata are skipped.
func imports(t *testing.T) map[string][]string {
	t.Helper()
	mod := modulePath(t)
	out := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		name := d.Name()
		if rel != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "bin" || rel == "scripts") {
			return filepath.SkipDir
		}
		pkg, err := build.ImportDir(path, 0)
		var noGo *build.NoGoError
		if errors.As(err, &noGo) {
			return nil
		}
		if err != nil {
			return err
		}
		deps := []string{}
		for _, imp := range pkg.Imports {
			switch {
			case imp == mod || strings.HasPrefix(imp, mod+"/"):
				deps = append(deps, strings.TrimPrefix(imp, mod+"/"))
			case !strings.Contains(strings.Split(imp, "/")[0], "."):
				// the standard library
			default:
				found := false
				for prefix, short := range externalNames {
					if imp == prefix || strings.HasPrefix(imp, prefix+"/") {
						deps, found = append(deps, short), true
						break
					}
				}
				if !found {
					t.Errorf("%s imports %s, which has no name in externalNames: add it there and to docs/design.md", rel, imp)
				}
			}
		}
		slices.Sort(deps)
		out[rel] = slices.Compact(deps)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// designTable parses the "depends on" column of the package table in docs/design.md: rows
// "| `pkg` | concept | `a`, `b`, goka |", "stdlib only" for none.
func designTable(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "docs", "design.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			in = line == "## Packages"
			continue
		case !in || !strings.HasPrefix(line, "| `"):
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 3 {
			t.Errorf("docs/design.md: row %q has %d columns, want 3", line, len(cells))
			continue
		}
		pkg := strings.Trim(strings.TrimSpace(cells[0]), "`")
		deps := []string{}
		if col := strings.TrimSpace(cells[2]); col != "stdlib only" {
			for _, d := range strings.Split(col, ",") {
				deps = append(deps, strings.Trim(strings.TrimSpace(d), "`"))
			}
		}
		if _, dup := out[pkg]; dup {
			t.Errorf("docs/design.md: package %s listed twice", pkg)
		}
		slices.Sort(deps)
		out[pkg] = deps
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal(`docs/design.md: no package table under "## Packages"`)
	}
	return out
}

// TestDesignPackageTable keeps docs/design.md's package table true: every package of the
// module has a row, and the row names exactly what the package imports.
func TestDesignPackageTable(t *testing.T) {
	got, table := imports(t), designTable(t)
	for pkg, deps := range got {
		row, ok := table[pkg]
		switch {
		case !ok:
			t.Errorf("docs/design.md: no row for package %s (it imports %s)", pkg, listOf(deps))
		case !slices.Equal(row, deps):
			t.Errorf("docs/design.md: %s depends on %s, but it imports %s", pkg, listOf(row), listOf(deps))
		}
	}
	for pkg := range table {
		if _, ok := got[pkg]; !ok {
			t.Errorf("docs/design.md: a row for %s, which is not a package of the module", pkg)
		}
	}
}

func listOf(deps []string) string {
	if len(deps) == 0 {
		return "stdlib only"
	}
	return strings.Join(deps, ", ")
}
