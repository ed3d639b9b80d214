"""Server-rendered pages of the staff dashboard, one module per concept.

Their record ids in paths are ``{name:id}`` segments (goodwill.web.limits registers the type).
"""

import goodwill.web.limits  # noqa: F401 - registers the {name:id} path segment before any route
