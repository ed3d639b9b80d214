"""Server-rendered pages of the staff dashboard, one module per concept."""
