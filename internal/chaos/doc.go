// Package chaos is kuniq's fault suite: it runs real `kuniq run` processes against a real broker
// of its own (scripts/kafka.sh on a private port and directory, or a three-broker cluster), feeds
// them challenge-shaped frames at a steady rate, injects one fault per case (instances killed,
// the broker killed or paused, a state directory lost or full, duplicate and poison input, a
// silent broker address), and checks the outcome against an undisturbed count of the same
// frames: every window final, uniques identical, no frame lost, and how long the pipeline took
// to recover.
//
// `make chaos` runs every case and prints the table docs/reliability.md reports; `make test`
// runs a reduced set (TestIntegrationChaos with KUNIQ_CHAOS=reduced).
package chaos
