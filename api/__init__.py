"""The read-only JSON API (/api/v1): for other systems, and the contract the pages use."""
