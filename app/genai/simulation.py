"""The offline simulation's pace: how long the emulator takes over each phase of a tuning job.

The emulator follows it (``app/emulator/timeline.py``), and the estimates TuneDesk shows while the
simulation is in use read it here, so production code never imports the emulator.
"""

from __future__ import annotations

import math

PENDING_SECONDS = 15.0
DATASET_SECONDS = 25.0
STEP_SECONDS = 4.0
POST_SECONDS = 20.0
CANCEL_SECONDS = 10.0
TUNING_STARTS = PENDING_SECONDS + DATASET_SECONDS
# Examples per tuning step (the emulator's fixed batch size).
BATCH_SIZE = 8


def step_count(examples: int, epochs: int) -> int:
    return max(1, math.ceil(examples * epochs / BATCH_SIZE))


def job_seconds(examples: int, epochs: int) -> float:
    """Emulated seconds from creation to success for a job of this size."""
    return TUNING_STARTS + step_count(examples, epochs) * STEP_SECONDS + POST_SECONDS
