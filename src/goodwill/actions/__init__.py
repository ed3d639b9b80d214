"""Use cases: each takes the store, the settings and the clock as arguments, never globals."""
