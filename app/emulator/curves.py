"""Simulated training curves, shaped by the data and the hyperparameters.

The numbers are invented but behave like real supervised fine-tuning, so monitoring and diagnosis
can be demonstrated and tested:
- a reasonable setup: training and validation loss fall and flatten;
- far too many epochs for the dataset size: training loss keeps falling while validation loss
  turns upward after the best epoch (overfitting);
- examples cut to the token limit: the first steps have a very high loss;
- a very high learning-rate multiplier: a noisy, spiky training loss.
Everything is deterministic for a given job (seeded by its id).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

TRAIN_LOSS = "/train_total_loss"
TRAIN_ACCURACY = "/train_fraction_of_correct_next_step_preds"
TRAIN_PREDICTIONS = "/train_num_predictions"
EVAL_LOSS = "/eval_total_loss"
EVAL_ACCURACY = "/eval_fraction_of_correct_next_step_preds"
EVAL_PREDICTIONS = "/eval_num_predictions"
TRAIN_SERIES = (TRAIN_LOSS, TRAIN_ACCURACY, TRAIN_PREDICTIONS)
EVAL_SERIES = (EVAL_LOSS, EVAL_ACCURACY, EVAL_PREDICTIONS)


@dataclass(frozen=True)
class CurveInputs:
    seed: str
    examples: int
    epochs: int
    total_steps: int
    learning_rate_multiplier: float
    adapter_size: int
    has_validation: bool
    truncated: bool
    tokens_per_epoch: int


def best_epoch(examples: int) -> float:
    """After this many epochs more passes only memorise (smaller datasets overfit sooner)."""
    return min(8.0, max(1.5, 1.0 + 2.0 * (examples / 100) ** 0.3))


def _progress(inputs: CurveInputs, step: int) -> float:
    """Epochs of training done at ``step``."""
    return step * inputs.epochs / max(1, inputs.total_steps)


def _speed(inputs: CurveInputs) -> float:
    multiplier = min(10.0, max(0.05, inputs.learning_rate_multiplier))
    return 1.7 * multiplier**0.6 * (1 + 0.05 * math.log2(max(1, inputs.adapter_size)))


def _start_loss(inputs: CurveInputs) -> float:
    return 7.8 if inputs.truncated else 2.4


def train_loss(inputs: CurveInputs, step: int, rng: random.Random) -> float:
    epoch = _progress(inputs, step)
    floor = 0.32 / (1 + 0.7 * epoch * 60 / (inputs.examples + 60))
    loss = floor + (_start_loss(inputs) - floor) * math.exp(-_speed(inputs) * epoch)
    noise = 0.04
    if inputs.learning_rate_multiplier > 4:
        noise = 0.25  # too aggressive: the optimiser overshoots
        if rng.random() < 0.12:
            loss *= 1.8
    return max(0.005, loss * (1 + rng.uniform(-noise, noise)))


def eval_loss(inputs: CurveInputs, step: int, rng: random.Random) -> float:
    epoch = _progress(inputs, step)
    floor = 0.38 + 1.2 / math.sqrt(inputs.examples + 10)
    start = _start_loss(inputs) * 0.95
    loss = floor + (start - floor) * math.exp(-_speed(inputs) * epoch)
    loss += 0.22 * max(0.0, epoch - best_epoch(inputs.examples)) ** 1.3
    return max(0.01, loss * (1 + rng.uniform(-0.02, 0.02)))


def accuracy(loss: float, rng: random.Random) -> float:
    return min(1.0, max(0.0, 0.97 * math.exp(-0.45 * loss) + rng.uniform(-0.01, 0.01)))


def eval_steps(total_steps: int) -> list[int]:
    """Vertex evaluates at regular intervals and at the end."""
    interval = max(1, total_steps // 10)
    steps = list(range(interval, total_steps + 1, interval))
    if not steps or steps[-1] != total_steps:
        steps.append(total_steps)
    return steps


def series(inputs: CurveInputs, completed_steps: int) -> dict[str, list[tuple[int, float]]]:
    """Every metric's (step, value) points up to ``completed_steps``."""
    rng = random.Random(f"{inputs.seed}:train")
    predictions = inputs.tokens_per_epoch * inputs.epochs / max(1, inputs.total_steps)
    result: dict[str, list[tuple[int, float]]] = {name: [] for name in TRAIN_SERIES}
    for step in range(1, inputs.total_steps + 1):
        loss = train_loss(inputs, step, rng)
        acc = accuracy(loss, rng)  # drawn for every step so the curve never depends on progress
        if step > completed_steps:
            continue
        result[TRAIN_LOSS].append((step, loss))
        result[TRAIN_ACCURACY].append((step, acc))
        result[TRAIN_PREDICTIONS].append((step, float(round(predictions))))
    if inputs.has_validation:
        rng = random.Random(f"{inputs.seed}:eval")
        result.update({name: [] for name in EVAL_SERIES})
        for step in eval_steps(inputs.total_steps):
            loss = eval_loss(inputs, step, rng)
            acc = accuracy(loss, rng)
            if step > completed_steps:
                continue
            result[EVAL_LOSS].append((step, loss))
            result[EVAL_ACCURACY].append((step, acc))
            result[EVAL_PREDICTIONS].append((step, float(round(predictions))))
    return result
