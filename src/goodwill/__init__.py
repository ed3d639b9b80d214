"""goodwill: a self-hosted client-care engine.

The library comes first; the CLI and the web app are thin adapters around it.
"""

from goodwill.errors import ConfigError, Conflict, GoodwillError, InvalidInput, NotAllowed, NotFound

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "Conflict",
    "GoodwillError",
    "InvalidInput",
    "NotAllowed",
    "NotFound",
    "__version__",
]
