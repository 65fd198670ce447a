"""Every number the dashboard shows is computed here, from a session and a scope."""
