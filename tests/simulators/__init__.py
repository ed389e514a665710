"""Self-tests of the device simulators."""
