"""Every ORM model, imported once so ``Base.metadata`` knows the whole schema (Alembic, tests)."""

from app.auth.models import ApiToken, AuditEvent, LoginThrottle, User
from app.datasets.models import (
    Dataset,
    DatasetChange,
    DatasetFinding,
    Example,
    ExampleRevision,
    Upload,
)
from app.datasets.versions.models import DatasetVersion, DatasetVersionExample
from app.db import Base
from app.evaluations.models import (
    EvalAnswer,
    EvalCandidate,
    EvalItem,
    EvalOutput,
    Evaluation,
    GoldenSet,
    HumanVote,
)
from app.genai.models import GeminiConnection
from app.notifications.models import Notification
from app.projects.models import Project, ProjectMember
from app.review.models import ReviewDecision, ReviewLease, ReviewSettings, ReviewSkip
from app.system import Heartbeat
from app.tuning.models import CatalogOverride, JobEvent, MetricPoint, TuningBudget, TuningJob

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Base",
    "CatalogOverride",
    "Dataset",
    "DatasetChange",
    "DatasetFinding",
    "DatasetVersion",
    "DatasetVersionExample",
    "EvalAnswer",
    "EvalCandidate",
    "EvalItem",
    "EvalOutput",
    "Evaluation",
    "Example",
    "ExampleRevision",
    "GeminiConnection",
    "GoldenSet",
    "Heartbeat",
    "HumanVote",
    "JobEvent",
    "LoginThrottle",
    "MetricPoint",
    "Notification",
    "Project",
    "ProjectMember",
    "ReviewDecision",
    "ReviewLease",
    "ReviewSettings",
    "ReviewSkip",
    "TuningBudget",
    "TuningJob",
    "Upload",
    "User",
]
