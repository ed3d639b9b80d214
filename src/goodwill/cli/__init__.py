"""The `goodwill` command line: one module per command group, each command parses its options,
calls one library function and prints."""
