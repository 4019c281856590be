"""Qt widgets and the thin adapters between the core and Qt."""
