// Package doccheck holds tests that keep the repository's documentation true to the code: the
// package table of docs/design.md against the imports, and the rule that nothing in the
// repository points at files a user's clone does not have. It has no code of its own.
package doccheck
