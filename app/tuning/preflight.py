"""The pre-flight checklist: one "ready / not ready" answer before money is spent.

Each check says what it verified in plain words; failures block the launch, warnings do not.
Examples behind a problem are listed by id so the page can link to each of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from app.datasets.models import Example, ExampleStatus
from app.datasets.versions.models import DatasetVersion, DatasetVersionExample
from app.genai.config import missing_settings
from app.genai.connection import current_config
from app.i18n import N_, _, format_number
from app.tuning import catalog
from app.tuning.budget import reason_text
from app.tuning.catalog import ModelSpec
from app.tuning.models import TuningJob
from app.tuning.recommend import FEW_EXAMPLES, Choice, DatasetStats
from app.tuning.texts import format_day

OK, WARNING, FAIL = "ok", "warning", "fail"
LISTED_EXAMPLES = 25  # example links shown per check; the rest are counted
TRAINING_SPLITS = ("train", "validation")
SHARE_APPLIES_ABOVE = 1_000  # validation examples above which the share limit applies

TITLES = {
    "training_examples": N_("Training examples"),
    "approved_only": N_("Only approved examples"),
    "test_split": N_("No test example in training or validation"),
    "token_limit": N_("Every example fits the model's token limit"),
    "validation_limit": N_("Validation set within the model's limit"),
    "adapter_size": N_("Adapter size allowed for the model"),
    "leakage": N_("No overlap between training and evaluation"),
    "dataset_size": N_("Enough examples"),
    "model_status": N_("Model available"),
    "region": N_("Region"),
    "continuation": N_("Continuing a tuned model"),
    "connection": N_("Gemini connection"),
    "price": N_("Training price"),
    "approval": N_("Budget"),
}

MESSAGES = {
    ("training_examples", OK): N_("%(n)s training examples will be uploaded."),
    ("training_examples", FAIL): N_(
        "This version has no training examples. Approve examples and create a new version."
    ),
    ("approved_only", OK): N_("Every example is approved, as it was when the version was made."),
    ("approved_only", FAIL): N_(
        "%(n)s examples of this version are no longer approved (sent back, rejected or "
        "excluded since). Create a new version from the approved examples."
    ),
    ("test_split", OK): N_(
        "The test set stays unseen: none of its examples is in the training or validation file."
    ),
    ("test_split", FAIL): N_(
        "%(n)s training or validation examples are also test examples (same content, or now "
        "marked as test). Create a new version so the test set stays unseen."
    ),
    ("token_limit", OK): N_(
        "The longest example has about %(max)s tokens; %(model)s accepts %(limit)s."
    ),
    ("token_limit", FAIL): N_(
        "%(n)s examples are longer than %(limit)s tokens, the limit of %(model)s; Vertex would "
        "cut them. Shorten or split them, then create a new version."
    ),
    ("validation_limit", OK): N_("%(n)s validation examples (%(model)s accepts up to %(limit)s)."),
    ("validation_limit", WARNING): N_(
        "No validation examples: the run cannot be diagnosed for over-fitting."
    ),
    ("validation_limit", FAIL): N_(
        "%(n)s validation examples, but %(model)s accepts at most %(limit)s. Create a version "
        "with a smaller validation split."
    ),
    ("adapter_size", OK): N_("Adapter size %(size)s is allowed for %(model)s."),
    ("adapter_size", WARNING): N_("Vertex will choose the adapter size."),
    ("adapter_size", FAIL): N_(
        "%(model)s does not accept adapter size %(size)s; choose one of %(sizes)s."
    ),
    ("leakage", OK): N_("No question appears both in training and in validation or test."),
    ("leakage", WARNING): N_(
        "%(n)s questions appear both in training and in validation or test; this was "
        "acknowledged, so evaluation scores may look better than they are."
    ),
    ("leakage", FAIL): N_(
        "%(n)s questions appear both in training and in validation or test, which makes "
        "evaluation look better than it is. Fix them in a new version, or acknowledge below."
    ),
    ("dataset_size", OK): N_("%(n)s training examples: enough to start."),
    ("dataset_size", WARNING): N_(
        "Only %(n)s training examples (fewer than 100). Add more data, or treat this run as a "
        "pilot."
    ),
    ("model_status", OK): N_("%(model)s is available for tuning."),
    ("model_status", WARNING): N_(
        "%(model)s is deprecated%(retires)s. Consider %(successor)s for new work."
    ),
    ("model_status", FAIL): N_(
        "%(model)s was retired on %(date)s and can no longer be tuned. Choose %(successor)s."
    ),
    ("region", OK): N_(
        "Vertex AI tunes %(model)s in %(region)s; the tuned model will answer from the "
        "%(serving)s endpoint."
    ),
    ("region", WARNING): N_(
        "Google does not say in which regions %(model)s tunes; TuneDesk will try %(region)s."
    ),
    ("region", FAIL): N_(
        "Vertex AI tunes %(model)s only in %(regions)s, but TuneDesk is set to %(region)s. An "
        "administrator can change the region under Administration → Connection (us-central1 "
        "serves tuned models from the “us” endpoint, europe-west4 from “eu”)."
    ),
    ("connection", OK): N_("TuneDesk is connected (%(mode)s)."),
    ("connection", FAIL): N_(
        "The Gemini connection is incomplete (missing: %(missing)s). An administrator can "
        "complete it under Administration → Connection."
    ),
    ("price", OK): N_("Price checked on %(date)s on Google's pricing page."),
    ("price", WARNING): N_(
        "The training price of %(model)s is not verified from Google's official pricing page: "
        "the cost is a placeholder. Check the pricing page before relying on it."
    ),
    ("approval", OK): N_("Within the project's budget: no approval needed."),
    ("approval", WARNING): N_("A manager must approve this launch before it starts. %(reasons)s"),
}


@dataclass(frozen=True)
class CheckItem:
    code: str
    status: str
    params: dict[str, Any] = field(default_factory=dict)
    example_ids: tuple[int, ...] = ()
    more: int = 0  # examples with the problem that are not listed

    @property
    def title(self) -> str:
        return _(TITLES[self.code])

    @property
    def message(self) -> str:
        if self.code == "continuation":
            return str(self.params.get("text", ""))  # already in the reader's words
        template = MESSAGES.get((self.code, self.status))
        return _(template) % self.params if template else ""


@dataclass(frozen=True)
class Checklist:
    items: tuple[CheckItem, ...]

    @property
    def ready(self) -> bool:
        return all(item.status != FAIL for item in self.items)

    def failures(self) -> list[CheckItem]:
        return [item for item in self.items if item.status == FAIL]

    def as_dict(self) -> dict[str, Any]:
        return {"ready": self.ready, "items": [asdict(item) for item in self.items]}


def dataset_stats(version: DatasetVersion) -> DatasetStats:
    """The numbers the recommendation and the estimate need, from the version's record."""
    counts, tokens = version.counts or {}, version.token_stats or {}
    train = tokens.get("train") or {}
    return DatasetStats(
        train_examples=int(counts.get("train", 0)),
        validation_examples=int(counts.get("validation", 0)),
        test_examples=int(counts.get("test", 0)),
        train_tokens=int(train.get("tokens", 0)),
        validation_tokens=int((tokens.get("validation") or {}).get("tokens", 0)),
        mean_tokens=float(train.get("mean", 0.0)),
        max_tokens=max(int((tokens.get(s) or {}).get("max", 0)) for s in TRAINING_SPLITS),
        pilot=version.kind == "pilot",
    )


def _listed(ids: Sequence[int]) -> tuple[tuple[int, ...], int]:
    unique = list(dict.fromkeys(ids))
    return tuple(unique[:LISTED_EXAMPLES]), max(0, len(unique) - LISTED_EXAMPLES)


def _frozen_in_training(version_id: int) -> Any:
    return select(DatasetVersionExample).where(
        DatasetVersionExample.version_id == version_id,
        DatasetVersionExample.split.in_(TRAINING_SPLITS),
    )


def _not_approved(session: Session, version_id: int) -> list[int]:
    frozen = _frozen_in_training(version_id).subquery()
    return list(
        session.scalars(
            select(Example.id)
            .join(frozen, frozen.c.example_id == Example.id)
            .where(Example.status != ExampleStatus.APPROVED)
            .order_by(Example.id)
        )
    )


def _test_overlap(session: Session, version_id: int) -> list[int]:
    """Training/validation examples that are test examples too (same content, or re-marked)."""
    training = aliased(DatasetVersionExample)
    test = aliased(DatasetVersionExample)
    same_content = session.scalars(
        select(training.example_id)
        .join(test, test.content_hash == training.content_hash)
        .where(
            training.version_id == version_id,
            test.version_id == version_id,
            training.split.in_(TRAINING_SPLITS),
            test.split == "test",
        )
    )
    frozen = _frozen_in_training(version_id).subquery()
    remarked = session.scalars(
        select(Example.id)
        .join(frozen, frozen.c.example_id == Example.id)
        .where(Example.split == "test")
    )
    return sorted(set(same_content) | set(remarked))


def _over_limit(session: Session, version_id: int, limit: int) -> list[int]:
    return list(
        session.scalars(
            _frozen_in_training(version_id)
            .with_only_columns(DatasetVersionExample.example_id)
            .where(DatasetVersionExample.token_estimate > limit)
            .order_by(DatasetVersionExample.token_estimate.desc())
        )
    )


def version_leakage(version: DatasetVersion) -> tuple[int, bool]:
    """Leakage recorded on the version when it was made: (findings, acknowledged).

    The version service refuses to create a version with overlaps unless a manager accepts them,
    and records ``{"total", "pairs", "acknowledged_by", "acknowledged_at", …}``
    (``app.datasets.versions.leakage.LeakageReport.record``).
    """
    leakage = version.leakage or {}
    found = leakage.get("total")
    if not isinstance(found, int):
        found = len(leakage.get("pairs") or [])
    acknowledged = bool(
        leakage.get("acknowledged_by")
        or leakage.get("acknowledged_at")
        or leakage.get("acknowledged")
    )
    return found, acknowledged


@dataclass(frozen=True)
class PreflightInput:
    version: DatasetVersion
    stats: DatasetStats
    model: ModelSpec
    choice: Choice
    leakage_acknowledged: bool
    approval_reasons: list[dict[str, Any]]
    parent: TuningJob | None = None  # continuous tuning
    parent_checkpoint: str | None = None


def _data_checks(session: Session, given: PreflightInput) -> list[CheckItem]:
    version, stats, model = given.version, given.stats, given.model
    items = [
        CheckItem(
            "training_examples",
            OK if stats.train_examples else FAIL,
            {"n": format_number(stats.train_examples)},
        )
    ]
    ids, more = _listed(_not_approved(session, version.id))
    items.append(CheckItem("approved_only", FAIL if ids else OK, {"n": len(ids) + more}, ids, more))
    ids, more = _listed(_test_overlap(session, version.id))
    items.append(CheckItem("test_split", FAIL if ids else OK, {"n": len(ids) + more}, ids, more))
    limits = {"model": model.display_name, "limit": format_number(model.max_example_tokens)}
    ids, more = _listed(_over_limit(session, version.id, model.max_example_tokens))
    items.append(
        CheckItem(
            "token_limit",
            FAIL if ids else OK,
            {**limits, "n": len(ids) + more, "max": format_number(stats.max_tokens)},
            ids,
            more,
        )
    )
    items.append(_validation_check(stats, model))
    return items


def validation_limit(stats: DatasetStats, model: ModelSpec) -> int:
    """Validation examples Vertex accepts: at most ``max_validation_examples``, and once there are
    more than 1,000 of them, at most ``max_validation_share`` of the training examples (SFT
    overview, 2026-09-25: "5000, or 30% of training examples if there are more than 1000")."""
    limit = model.max_validation_examples
    share = model.max_validation_share
    if share and stats.validation_examples > SHARE_APPLIES_ABOVE:
        limit = min(limit, max(SHARE_APPLIES_ABOVE, int(stats.train_examples * share)))
    return limit


def _validation_check(stats: DatasetStats, model: ModelSpec) -> CheckItem:
    validation, limit = stats.validation_examples, validation_limit(stats, model)
    status = FAIL if validation > limit else (OK if validation else WARNING)
    params = {
        "n": format_number(validation),
        "model": model.display_name,
        "limit": format_number(limit),
    }
    return CheckItem("validation_limit", status, params)


def _leakage_check(given: PreflightInput) -> CheckItem:
    """The overlaps the version recorded when it was frozen (a version never changes, so this is
    the whole truth), linked to the training examples involved."""
    found, acknowledged_on_version = version_leakage(given.version)
    if not found:
        return CheckItem("leakage", OK)
    pairs = (given.version.leakage or {}).get("pairs") or []
    ids, more = _listed(sorted({int(pair["train_id"]) for pair in pairs}))
    acknowledged = acknowledged_on_version or given.leakage_acknowledged
    return CheckItem("leakage", WARNING if acknowledged else FAIL, {"n": found}, ids, more)


def _model_checks(given: PreflightInput) -> list[CheckItem]:
    model, choice = given.model, given.choice
    items = []
    if choice.adapter_size is None:
        items.append(CheckItem("adapter_size", WARNING))
    else:
        params = {
            "size": choice.adapter_size,
            "model": model.display_name,
            "sizes": ", ".join(map(str, model.adapter_sizes)),
        }
        items.append(
            CheckItem("adapter_size", OK if model.allows(choice.adapter_size) else FAIL, params)
        )
    n = given.stats.train_examples
    items.append(
        CheckItem("dataset_size", WARNING if n < FEW_EXAMPLES else OK, {"n": format_number(n)})
    )
    following = catalog.current().successor_of(model.id)
    successor = following.display_name if following else (model.successor or _("a newer model"))
    retires = (
        _(", retiring on %(date)s") % {"date": format_day(model.retirement_date)}
        if model.retirement_date
        else ""
    )
    params = {"model": model.display_name, "successor": successor, "retires": retires}
    if model.retired():
        params["date"] = format_day(model.retirement_date)
        items.append(CheckItem("model_status", FAIL, params))
    else:
        items.append(CheckItem("model_status", WARNING if model.deprecated else OK, params))
    return items


def _service_checks(given: PreflightInput) -> list[CheckItem]:
    config = current_config()
    missing = missing_settings(config)
    mode = (
        _("offline emulator")
        if config.is_emulator
        else _("Vertex AI project %(project)s") % {"project": config.project}
    )
    items = [
        CheckItem(
            "connection", FAIL if missing else OK, {"mode": mode, "missing": ", ".join(missing)}
        )
    ]
    model = given.model
    if model.price_verified:
        items.append(CheckItem("price", OK, {"date": format_day(model.price_checked_on)}))
    else:
        items.append(CheckItem("price", WARNING, {"model": model.display_name}))
    reasons = " ".join(reason_text(reason) for reason in given.approval_reasons)
    items.append(CheckItem("approval", WARNING if reasons else OK, {"reasons": reasons}))
    return items


def region_check(model: ModelSpec, region: str) -> CheckItem:
    """Whether the configured region tunes ``model`` (Gemini 3.x: us-central1, europe-west4),
    and where its tuned model will answer (``us``/``eu`` for 3.x; vertex-2026.md §1)."""
    params = {
        "model": model.display_name,
        "region": region,
        "regions": " / ".join(model.tuning_regions),
        "serving": model.serving_location(region),
    }
    if not model.tuning_regions:
        return CheckItem("region", WARNING, params)
    return CheckItem("region", OK if model.tunes_in(region) else FAIL, params)


def _region_checks(given: PreflightInput) -> list[CheckItem]:
    if given.model.retired():
        return []  # the model line already refuses it; where it tuned no longer matters
    return [region_check(given.model, current_config().location)]


def _continuation_checks(given: PreflightInput) -> list[CheckItem]:
    """Google's rules for continuing a tuned model (``app.tuning.continuation``)."""
    from app.tuning import continuation

    if given.parent is None:
        return []
    verdict = continuation.check(
        given.parent,
        checkpoint_id=given.parent_checkpoint,
        version_id=given.version.id,
        continuable=given.model.continuous_tuning,
        model=given.model.display_name,
    )
    status = OK if verdict.ok else (WARNING if verdict.warning else FAIL)
    return [CheckItem("continuation", status, {"text": continuation.message(verdict)})]


def run(session: Session, given: PreflightInput) -> Checklist:
    items = _data_checks(session, given)
    items.append(_leakage_check(given))
    items.extend(_model_checks(given))
    items.extend(_region_checks(given))
    items.extend(_continuation_checks(given))
    items.extend(_service_checks(given))
    return Checklist(tuple(items))
