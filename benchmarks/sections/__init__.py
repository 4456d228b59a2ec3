"""One module per section of the benchmark report; each returns a typed result."""
