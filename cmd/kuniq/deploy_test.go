package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDeployFilesUseRealSettings: the flags and KUNIQ_* variables the systemd unit, its
// environment file and the Kubernetes sketch set are ones `kuniq run` has, and the probes and
// the metrics port are the ones it serves.
func TestDeployFilesUseRealSettings(t *testing.T) {
	flags := commandFlags(t, "run")
	env := map[string]bool{"KUNIQ_SASL_PASSWORD": true, "KUNIQ_HTTP_TOKEN": true}
	for f := range flags {
		env[envName(f)] = true
	}
	flagRef := regexp.MustCompile(`(?:^|[\s"\[])--([a-z][a-z0-9-]+)`)
	envRef := regexp.MustCompile(`\bKUNIQ_[A-Z0-9_]+\b`)
	for _, file := range []string{"../../deploy/systemd/kuniq.service", "../../deploy/systemd/kuniq.env", "../../deploy/kubernetes/kuniq.yaml"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(string(b)) {
			if strings.HasPrefix(strings.TrimSpace(line), "#") && !strings.Contains(line, "KUNIQ_") {
				continue
			}
			for _, m := range flagRef.FindAllStringSubmatch(line, -1) {
				if _, ok := flags[m[1]]; !ok && m[1] != "from-file" && m[1] != "from-literal" {
					t.Errorf("%s: --%s is no flag of kuniq run (%q)", file, m[1], strings.TrimSpace(line))
				}
			}
			for _, name := range envRef.FindAllString(line, -1) {
				if !env[name] {
					t.Errorf("%s: %s is no variable kuniq run reads (%q)", file, name, strings.TrimSpace(line))
				}
			}
		}
	}
	k8s, _ := os.ReadFile("../../deploy/kubernetes/kuniq.yaml")
	for _, want := range []string{"path: /healthz", "path: /readyz", `"--http", "0.0.0.0:9464"`, "containerPort: 9464"} {
		if !strings.Contains(string(k8s), want) {
			t.Errorf("deploy/kubernetes/kuniq.yaml lacks %q", want)
		}
	}
}

// TestOperationsDocListsEverySetting: docs/operations.md ("Every setting") names every flag of
// run and serve.
func TestOperationsDocListsEverySetting(t *testing.T) {
	b, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, cmd := range []string{"run", "serve"} {
		for f := range commandFlags(t, cmd) {
			if !strings.Contains(doc, "`--"+f+"`") && !strings.Contains(doc, "`--"+f+" ") {
				t.Errorf("docs/operations.md does not list kuniq %s --%s", cmd, f)
			}
		}
	}
}
