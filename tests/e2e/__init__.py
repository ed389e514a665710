"""End-to-end tests: a real `hass` process with the simulated devices, driven over HTTP."""
