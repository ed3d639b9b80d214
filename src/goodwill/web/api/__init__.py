"""The JSON API under /api/v1, authenticated with bearer tokens, documented at /openapi.json."""
