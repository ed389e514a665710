"""Device simulators used by tests, demos and benchmarks."""
