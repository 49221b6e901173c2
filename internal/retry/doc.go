// Package retry is how kuniq waits out a fault: a capped exponential Backoff with jitter, and an
// Outage that turns a stream of failures of one thing (a broker, a producer, a consumer group)
// into log lines at state changes only: the first failure, a change of error, the recovery,
// each with a running count, instead of a line every few seconds for as long as it lasts.
package retry
