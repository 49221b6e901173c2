package processor_test

import "github.com/kuniq/kuniq/processor"

func processorNames(app string) processor.Names { return processor.NamesFor(app) }
