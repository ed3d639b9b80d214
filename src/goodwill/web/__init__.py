"""The web adapter: the staff dashboard (server-rendered pages) and the JSON API under /api/v1.

Both are thin: a view parses the request, calls the store's queries, and renders the result.
"""

from goodwill.web.app import create_app
from goodwill.web.secret import secret_key
from goodwill.web.server import serve

__all__ = ["create_app", "secret_key", "serve"]
