"""The pure core: dataclasses and functions with no I/O and no framework imports."""
