"""Reading a job's training curves the way Google's tuning guidance does (pure: no database).

Verdicts, checked in this order:
- ``data_problem``: the very first training loss is very high (above 10), or high (above 5)
  while Vertex reported truncated or dropped examples: examples were probably cut off or
  malformed; fix the data before anything else.
- ``over_fitting``: validation loss reached a minimum and then rose clearly while training loss
  kept falling: the model memorises. Use the checkpoint nearest that minimum, or fewer epochs.
- ``under_trained``: losses were still falling clearly at the end: more epochs, a higher
  learning-rate multiplier, or more data would help.
- ``healthy``: losses fell and flattened.
While a job runs, only a data problem and over-fitting can be told early; the rest waits.
Curves are compared on smoothed windows (about a tenth of the points) so step-to-step noise
does not decide anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.i18n import N_, _

VERY_HIGH_FIRST_LOSS = 10.0
HIGH_FIRST_LOSS_WITH_TRUNCATION = 5.0
RISE_AFTER_MINIMUM = 0.10  # validation loss 10 % above its minimum at the end
MIN_ABSOLUTE_RISE = 0.02
STILL_IMPROVING_SHARE = 0.10  # the last fifth of training brought ≥10 % of the whole drop
STILL_IMPROVING_RELATIVE = 0.03  # … and lowered the loss by ≥3 %
MIN_POINTS = 4

Point = tuple[int, float]

VERDICTS = {
    "waiting": N_("No training curve yet: the diagnosis appears once tuning has started."),
    "no_curve": N_("No training curve was recorded, so there is nothing to diagnose."),
    "in_progress": N_("Training is under way; nothing unusual so far."),
    "data_problem": N_(
        "Probably a data problem: the first training loss was %(first)s, far above the usual "
        "2–3. This happens when examples are cut off (too long) or malformed."
    ),
    "over_fitting": N_(
        "Over-fitting: validation loss was lowest (%(best)s) at step %(step)s, then rose to "
        "%(last)s while training loss kept falling. The model started memorising your examples."
    ),
    "under_trained": N_(
        "Under-trained: the loss was still falling clearly at the end (from %(before)s to "
        "%(last)s over the last fifth of training). The model could learn more."
    ),
    "healthy": N_(
        "Healthy: training loss fell from %(first)s to %(last)s and flattened, and validation "
        "loss did not rise."
    ),
    "healthy_no_validation": N_(
        "Training loss fell from %(first)s to %(last)s and flattened. Without validation "
        "examples over-fitting cannot be ruled out."
    ),
}

ADVICE = {
    "open_truncated": N_(
        "Open the %(count)s examples Vertex cut or dropped (listed below) and shorten, split or "
        "fix them, then create a new version."
    ),
    "check_data": N_(
        "Check the examples: answers cut off, wrong roles, or text in the wrong field are the "
        "usual causes."
    ),
    "use_checkpoint": N_(
        "Use checkpoint %(checkpoint)s (epoch %(epoch)s) instead of the final model."
    ),
    "fewer_epochs": N_("Next time, tune for about %(epochs)s epochs instead of %(total)s."),
    "more_epochs": N_("Tune for more epochs (for example %(epochs)s instead of %(total)s)."),
    "higher_multiplier": N_(
        "Or raise the learning-rate multiplier (for example to %(multiplier)s)."
    ),
    "more_data": N_("More varied examples also help the model learn the task."),
    "add_validation": N_(
        "Add validation examples to the next version so over-fitting can be seen."
    ),
}

CHECKPOINT_REASONS = {
    "lowest_validation": N_(
        "It has the lowest validation loss (%(loss)s, nearest to step %(step)s): the model "
        "generalised best there."
    ),
    "fix_data_first": N_("None yet: fix the data and tune again before using this model."),
    "last": N_(
        "The final checkpoint: validation loss did not rise, so the longest training is best."
    ),
    "last_no_validation": N_(
        "The final checkpoint (without validation examples the checkpoints cannot be compared)."
    ),
}


@dataclass(frozen=True)
class Checkpoint:
    checkpoint_id: str
    epoch: int | None
    step: int | None


@dataclass(frozen=True)
class Note:
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Diagnosis:
    verdict: str
    params: dict[str, Any]
    advice: tuple[Note, ...] = ()
    checkpoint: Checkpoint | None = None
    checkpoint_reason: Note | None = None
    provisional: bool = False  # the job is still running

    @property
    def text(self) -> str:
        return _(VERDICTS[self.verdict]) % _shown(self.params)

    def advice_texts(self) -> list[str]:
        return [_(ADVICE[note.code]) % _shown(note.params) for note in self.advice]

    @property
    def checkpoint_text(self) -> str:
        if self.checkpoint_reason is None:
            return ""
        reason = self.checkpoint_reason
        return _(CHECKPOINT_REASONS[reason.code]) % _shown(reason.params)

    @property
    def tone(self) -> str:
        return {
            "healthy": "success",
            "healthy_no_validation": "success",
            "in_progress": "info",
            "waiting": "info",
            "no_curve": "info",
        }.get(self.verdict, "warning")


def _shown(params: dict[str, Any]) -> dict[str, Any]:
    return {
        key: f"{value:.3f}" if isinstance(value, float) else value for key, value in params.items()
    }


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _window(points: Sequence[Point]) -> int:
    return max(2, len(points) // 10)


def _nearest(checkpoints: Sequence[Checkpoint], step: int) -> Checkpoint | None:
    placed = [c for c in checkpoints if c.step is not None]
    if not placed:
        return None
    return min(placed, key=lambda c: (abs((c.step or 0) - step), c.step or 0))


def _last(checkpoints: Sequence[Checkpoint]) -> Checkpoint | None:
    placed = [c for c in checkpoints if c.step is not None]
    return (
        max(placed, key=lambda c: c.step or 0)
        if placed
        else (checkpoints[-1] if checkpoints else None)
    )


def _data_problem(train: Sequence[Point], truncated: int) -> Diagnosis | None:
    first = train[0][1]
    if first > VERY_HIGH_FIRST_LOSS or (first > HIGH_FIRST_LOSS_WITH_TRUNCATION and truncated):
        advice = Note("open_truncated", {"count": truncated}) if truncated else Note("check_data")
        return Diagnosis("data_problem", {"first": first}, (advice,), None, Note("fix_data_first"))
    return None


def _minimum_then_rise(evals: Sequence[Point]) -> tuple[Point, Point] | None:
    if len(evals) < 3:
        return None
    best = min(evals, key=lambda point: point[1])
    last = evals[-1]
    rise = last[1] - best[1]
    if best is last or rise < MIN_ABSOLUTE_RISE or rise < RISE_AFTER_MINIMUM * best[1]:
        return None
    return best, last


def _train_at(train: Sequence[Point], step: int) -> float:
    near = [value for s, value in train if abs(s - step) <= max(1, len(train) // 20)]
    return _mean(near) if near else train[-1][1]


def _over_fitting(
    train: Sequence[Point],
    evals: Sequence[Point],
    checkpoints: Sequence[Checkpoint],
    epochs: int | None,
) -> Diagnosis | None:
    found = _minimum_then_rise(evals)
    if found is None:
        return None
    best, last = found
    if _mean([v for _s, v in train[-_window(train) :]]) >= _train_at(train, best[0]):
        return None  # training loss did not keep falling: not the memorising pattern
    params = {"best": best[1], "step": best[0], "last": last[1]}
    checkpoint = _nearest(checkpoints, best[0])
    advice = []
    if checkpoint is not None:
        advice.append(
            Note(
                "use_checkpoint",
                {"checkpoint": checkpoint.checkpoint_id, "epoch": checkpoint.epoch},
            )
        )
        if checkpoint.epoch and epochs:
            advice.append(Note("fewer_epochs", {"epochs": checkpoint.epoch, "total": epochs}))
    reason = Note("lowest_validation", {"loss": best[1], "step": best[0]})
    return Diagnosis("over_fitting", params, tuple(advice), checkpoint, reason)


def _still_improving(points: Sequence[Point]) -> tuple[float, float] | None:
    """(smoothed loss a fifth before the end, smoothed final loss) when still clearly falling."""
    if len(points) < MIN_POINTS:
        return None
    w = _window(points)
    values = [v for _s, v in points]
    start, end = _mean(values[:w]), _mean(values[-w:])
    cut = max(w, int(len(values) * 0.8))
    before = _mean(values[cut - w : cut])
    total, recent = start - end, before - end
    if (
        total <= 0
        or recent < STILL_IMPROVING_SHARE * total
        or recent < STILL_IMPROVING_RELATIVE * before
    ):
        return None
    return before, end


def _under_trained(
    train: Sequence[Point],
    evals: Sequence[Point],
    checkpoints: Sequence[Checkpoint],
    hyper: dict[str, Any],
) -> Diagnosis | None:
    found = _still_improving(train)
    if found is None and evals:
        found = _still_improving(evals)
    if found is None:
        return None
    epochs = int(hyper.get("epochs") or hyper.get("completed_epochs") or 3)
    multiplier = float(hyper.get("learning_rate_multiplier") or 1.0)
    advice = [
        Note("more_epochs", {"epochs": epochs * 2, "total": epochs}),
        Note("higher_multiplier", {"multiplier": f"{min(10.0, multiplier * 2):g}"}),
        Note("more_data"),
    ]
    checkpoint = _last(checkpoints)
    reason = Note("last" if evals else "last_no_validation")
    return Diagnosis(
        "under_trained", {"before": found[0], "last": found[1]}, tuple(advice), checkpoint, reason
    )


def diagnose(
    train_loss: Sequence[Point],
    eval_loss: Sequence[Point],
    checkpoints: Sequence[Checkpoint] = (),
    *,
    finished: bool,
    truncated: int = 0,
    hyperparameters: dict[str, Any] | None = None,
) -> Diagnosis:
    """The verdict on a job's curves (points sorted by step), with the checkpoint to use."""
    train = sorted(train_loss)
    evals = sorted(eval_loss)
    hyper = hyperparameters or {}
    if not train:
        return Diagnosis("no_curve" if finished else "waiting", {})
    problem = _data_problem(train, truncated)
    if problem is not None:
        return _with(problem, provisional=not finished)
    over = _over_fitting(train, evals, checkpoints, hyper.get("epochs"))
    if over is not None:
        return _with(over, provisional=not finished)
    if not finished:
        return Diagnosis("in_progress", {}, provisional=True)
    under = _under_trained(train, evals, checkpoints, hyper)
    if under is not None:
        return under
    params = {"first": train[0][1], "last": train[-1][1]}
    if not evals:
        return Diagnosis(
            "healthy_no_validation",
            params,
            (Note("add_validation"),),
            _last(checkpoints),
            Note("last_no_validation"),
        )
    best = min(evals, key=lambda point: point[1])
    checkpoint = _nearest(checkpoints, best[0]) or _last(checkpoints)
    if checkpoint is not None and checkpoint == _last(checkpoints):
        return Diagnosis("healthy", params, (), checkpoint, Note("last"))
    reason = Note("lowest_validation", {"loss": best[1], "step": best[0]})
    return Diagnosis("healthy", params, (), checkpoint, reason)


def _with(diagnosis: Diagnosis, *, provisional: bool) -> Diagnosis:
    return Diagnosis(
        diagnosis.verdict,
        diagnosis.params,
        diagnosis.advice,
        diagnosis.checkpoint,
        diagnosis.checkpoint_reason,
        provisional,
    )
