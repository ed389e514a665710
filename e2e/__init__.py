"""A real Home Assistant process with the simulated devices: shared by scripts/demo and tests/e2e.

Everything here talks to Home Assistant the way a person or the frontend does, over its HTTP
and websocket APIs on loopback; nothing imports Home Assistant's internals.
"""
