// Command lag prints how far a consumer group is behind a topic: the sum over partitions of
// the high-water mark minus the group's committed offset. `scripts/bench.sh` uses it to tell
// when `kuniq run` has consumed a topic, from outside the process and without touching it.
//
// With -wait it polls until the lag is zero (and the topic is not empty), printing progress,
// and ends with "RESULT consumed=N secs=S first_secs=F steady_secs=T": S is the time from
// -start (unix ms; default: when lag started) to the first poll that saw lag zero, F the time
// to the first poll that saw a committed offset, T = S - F. Commits come in steps (Goka
// commits after each flush, sarama every second), so S and T are known to about a poll plus
// a commit interval; steady = consumed since the first seen commit / T. With -snapshot the goal
// is the high-water marks of the first poll: stage 1 keeps sending heartbeats to the partials
// topic, so stage 2's lag on it is never zero for long, but it does pass a fixed mark.
package main
