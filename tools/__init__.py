"""Tools for the repository itself: Home Assistant releases, their pins, the requirements check."""
