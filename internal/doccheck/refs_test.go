package doccheck

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoPointersOutsideTheRepository: a user's clone has only the repository, so no tracked
// file may send its reader to the project's notes outside it (the names in banned); what
// they said belongs in docs/.
func TestNoPointersOutsideTheRepository(t *testing.T) {
	out, err := exec.Command("git", "-C", root, "ls-files").Output()
	if err != nil {
		t.Skipf("git ls-files: %v (not a git checkout)", err)
	}
	banned := []string{"../" + "shared", "MISSION" + ".md", "FACTS" + ".md", "STYLE" + ".md"}
	for _, name := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			continue // deleted in the work tree
		}
		if bytes.IndexByte(b, 0) >= 0 {
			continue // binary
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, ref := range banned {
				if strings.Contains(line, ref) {
					t.Errorf("%s:%d points at %s, which a clone does not have: %s", name, i+1, ref, strings.TrimSpace(line))
				}
			}
		}
	}
}
