"""Installing the integration as a user does; Home Assistant installs its requirements."""
