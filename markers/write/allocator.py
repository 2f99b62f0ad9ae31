"""The Arrow allocator of a command run: the C library's ``malloc`` rather than Arrow's default mimalloc.

A command reads, normalizes and writes once, allocating and freeing large Arrow buffers (a column of a
million cells, a slice of CSV text) a few hundred times. With mimalloc a run spent a third of its CPU
time in the kernel (fresh pages faulted in, freed ones reset): ``markers normalize`` on a million CSV
rows took 3 to 5 s of system time, ``malloc`` 2.5 to 3 s; a first 100,000-row CSV write cost twice a later
one; and the peak memory was 50 to 80 MB higher. Answers do not depend on it.
"""

from __future__ import annotations

import os
import sys

#: Arrow reads this when it starts; a value the user set is left alone.
ENVIRONMENT = "ARROW_DEFAULT_MEMORY_POOL"


def use_system_allocator() -> None:
    """Make ``malloc`` Arrow's default memory pool for this process and its children (unless the user chose one)."""
    if ENVIRONMENT in os.environ:
        return
    os.environ[ENVIRONMENT] = "system"  # read when pyarrow starts: no import (start-up time) when it has not
    if "pyarrow" in sys.modules:
        import pyarrow as pa

        pa.set_memory_pool(pa.system_memory_pool())
