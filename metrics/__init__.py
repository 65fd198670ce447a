"""Every number the dashboard shows is computed here, from a session and a scope."""

from metrics import rollups as _rollups  # noqa: E402, F401  (registers the roll-ups with data.changes)
