"""The cyclic garbage collector told to leave a long-running process's start-up objects alone.

Each full collection walks every object the collector tracks. A worker holds a few hundred
thousand from start-up alone (the modules, classes and functions of SQLAlchemy, numpy and scipy),
none of which will ever be garbage, and an engine pass that reads tens of thousands of rows
triggers full collections that walk them all: two of them took 0.18–0.21 s of a 1.1 s first pass
at 20,000 events (docs/benchmarks.md, engine throughput). Loading what a pass will load and
freezing what is there (``gc.freeze``, which costs nothing itself) takes those objects out of the
walk; everything made afterwards is collected as before.

Once per process: objects frozen are still freed when nothing refers to them, but a cycle among
them that becomes garbage later is never collected (nor the little garbage start-up left), so
only what start-up made is frozen. No collection is forced first: a full one would cost a short
process, such as one `goodwill engine run`, about what it saves.
"""

from __future__ import annotations

import gc
import importlib
from collections.abc import Sequence

#: What an engine worker loads in its first pass anyway (the refit's optimiser).
ENGINE_MODULES = ("numpy", "scipy.optimize")

_settled = False


def settle(preload: Sequence[str] = ()) -> bool:
    """Import ``preload`` and freeze every object there is; True the first time in a process,
    False (doing nothing) after that."""
    global _settled
    if _settled:
        return False
    for name in preload:
        importlib.import_module(name)
    gc.freeze()
    _settled = True
    return True
