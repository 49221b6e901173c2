package main

import (
	"time"

	"github.com/kuniq/kuniq/processor"
	"github.com/kuniq/kuniq/window"
)

// retentionFlags are run's --retention-* flags for the commands that read the table and must
// know which windows run may have deleted (serve, uniques): the same names, so the same
// KUNIQ_RETENTION_* variables configure all of them.
type retentionFlags map[window.Granularity]*time.Duration

func addRetentionFlags(fs *flagSet) retentionFlags {
	d := processor.DefaultConfig().Retention
	f := retentionFlags{}
	for _, g := range window.All {
		f[g] = fs.Duration("retention-"+g.String(), d[g],
			"the --retention-"+g.String()+" kuniq run was given: "+g.String()+" windows older than this are not merged into ranges (0: kept forever)")
	}
	return f
}

func (f retentionFlags) config() map[window.Granularity]time.Duration {
	m := map[window.Granularity]time.Duration{}
	for g, d := range f {
		m[g] = *d
	}
	return m
}
