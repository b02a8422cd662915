"""Whether this worker has been asked to stop, as one byte shared with its pool children.

Celery's warm shutdown (SIGTERM, Ctrl-C) waits for the running tasks to end, and an evaluation
can run for hours. Long tasks therefore check ``requested()`` at safe points: they stop starting
new work, let what is in flight finish and be saved, and put themselves back in the queue. The
worker then stops within seconds and the next one continues without asking anything twice.

The main process receives the signal, but with the prefork pool the tasks run in forked
children. The byte is an anonymous shared mapping created at import, before the pool forks, so a
mark made by the main process is seen by every child (a module-level boolean would not be).
"""

from __future__ import annotations

import mmap

_FLAG = mmap.mmap(-1, 1)  # MAP_SHARED: survives fork as the same page


def request() -> None:
    """Mark this worker as stopping (called from Celery's shutdown signal)."""
    _FLAG[0] = 1


def requested() -> bool:
    return _FLAG[0] == 1
