"""A long-running process freezes what start-up made out of the collector's full walks, once."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import gc, sys, weakref
from goodwill.engine.heap import settle

assert "colorsys" not in sys.modules
before = gc.get_freeze_count()
assert settle(["colorsys"]) is True
frozen = gc.get_freeze_count()
assert "colorsys" in sys.modules and frozen > before, (before, frozen)
assert gc.isenabled()
assert settle(["colorsys"]) is False and gc.get_freeze_count() == frozen  # once a process

class Node:
    pass

a, b = Node(), Node()
a.other, b.other = b, a  # a cycle made after start-up is still collected
gone = weakref.ref(a)
del a, b
gc.collect()
assert gone() is None
print("ok", frozen)
"""


def test_settling_loads_freezes_once_and_still_collects_what_comes_after() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok ")
