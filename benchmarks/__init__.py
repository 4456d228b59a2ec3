"""forecast-hub's benchmarks: `make bench` runs benchmarks.report, which runs every section."""
