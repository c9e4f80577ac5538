"""How `bmc-hub worker` readies its process before the jobs run (app.core.worker.settle)."""

from __future__ import annotations

import subprocess
import sys

from app.core.worker import YOUNG_COLLECTION_OBJECTS

PROBE = """
import gc
from app.core import worker
before = gc.get_threshold()
worker.settle()
print(gc.get_freeze_count(), *before, *gc.get_threshold())
"""


def test_settle_freezes_what_is_loaded_and_makes_young_collections_rarer():
    # In a process of its own: the collector's settings are the whole process's.
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout.split()
    frozen, *before, young, middle, old = map(int, out)
    assert frozen > 1000  # the loaded code and its objects, out of the full passes
    assert young == YOUNG_COLLECTION_OBJECTS > before[0]
    assert [middle, old] == before[1:]  # the older generations as they were
