package main

import (
	"context"
	"errors"
	"io"
)

var errNotBuilt = errors.New("not built yet in this revision")

func runView(ctx context.Context, args []string, stdout, stderr io.Writer) error   { return errNotBuilt }
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error  { return errNotBuilt }
