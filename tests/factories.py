"""Plain factory functions. They commit, because the app under test reads with its own session."""

from __future__ import annotations

import hashlib
import itertools

from sqlalchemy.orm import Session

from app.auth.models import User
from app.auth.passwords import hash_password
from app.datasets.editing import examples
from app.datasets.models import Dataset, Example, ExampleStatus
from app.projects.models import Project, ProjectMember
from app.projects.permissions import Role

PASSWORD = "correct horse battery staple"
# Argon2 is slow on purpose; hash the shared test password once per run.
_PASSWORD_HASH = hash_password(PASSWORD)
_counter = itertools.count(1)


def create_user(
    session: Session,
    *,
    name: str | None = None,
    email: str | None = None,
    is_admin: bool = False,
    is_active: bool = True,
    locale: str | None = None,
) -> User:
    n = next(_counter)
    user = User(
        name=name or f"User {n}",
        email=(email or f"user{n}@example.com").lower(),
        password_hash=_PASSWORD_HASH,
        is_admin=is_admin,
        is_active=is_active,
        locale=locale,
    )
    session.add(user)
    session.commit()
    return user


def create_project(
    session: Session,
    *,
    name: str = "Support replies",
    members: dict[User, Role] | None = None,
    system_instruction: str = "",
) -> Project:
    project = Project(name=name, description="", system_instruction=system_instruction)
    session.add(project)
    session.flush()
    for user, role in (members or {}).items():
        session.add(ProjectMember(project_id=project.id, user_id=user.id, role=role))
    session.commit()
    return project


def project_with_roles(session: Session) -> tuple[Project, dict[Role, User]]:
    """A project with one member per role (keys: the roles)."""
    users = {
        role: create_user(session, name=f"{role.value.title()} {next(_counter)}") for role in Role
    }
    project = create_project(session, members={user: role for role, user in users.items()})
    return project, users


_WORDS = (
    "parcel",
    "invoice",
    "refund",
    "voucher",
    "warranty",
    "blender",
    "kettle",
    "courier",
    "locker",
    "receipt",
    "subscription",
    "discount",
    "membership",
    "battery",
    "charger",
    "cushion",
    "lantern",
    "backpack",
    "umbrella",
    "thermos",
    "stroller",
    "tripod",
    "compass",
    "sleeping",
    "tent",
    "jacket",
    "glove",
    "boots",
    "helmet",
    "ladder",
    "drawer",
    "shelf",
    "curtain",
    "pillow",
    "blanket",
    "towel",
    "spatula",
    "grinder",
    "toaster",
    "heater",
    "fan",
    "filter",
    "cartridge",
    "adapter",
    "cable",
    "remote",
    "monitor",
    "keyboard",
    "printer",
    "scanner",
    "router",
    "speaker",
    "headset",
    "camera",
    "lens",
    "tablet",
)


_ADJECTIVES = (
    "red",
    "quiet",
    "spare",
    "broken",
    "heavy",
    "silver",
    "folding",
    "compact",
    "wireless",
    "vintage",
    "frozen",
    "lost",
    "spare",
    "leather",
    "cotton",
    "bamboo",
    "cordless",
    "steel",
    "glass",
    "wooden",
    "plastic",
    "waterproof",
    "portable",
    "antique",
)


def distinct_text(n: int, kind: str) -> str:
    """A sentence unlike those of other numbers (default factory texts must not look like
    near-duplicates of each other, or every version would report leakage between its splits)."""
    digest = hashlib.blake2b(f"{kind}:{n}".encode(), digest_size=16).digest()
    things = [
        f"{_ADJECTIVES[digest[2 * i] % len(_ADJECTIVES)]} {_WORDS[digest[2 * i + 1] % len(_WORDS)]}"
        for i in range(4)
    ]
    if kind == "question":
        return f"#{n}: my {things[0]}, {things[1]}, {things[2]} and {things[3]}?"
    return f"#{n}: {things[0]} with {things[1]}; {things[2]} before {things[3]}."


def create_dataset(session: Session, *, project: Project, name: str = "FAQ") -> Dataset:
    dataset = Dataset(project_id=project.id, name=name, column_mapping={})
    session.add(dataset)
    session.commit()
    return dataset


def create_example(
    session: Session,
    *,
    dataset: Dataset,
    question: str | None = None,
    answer: str | None = None,
    status: str = ExampleStatus.APPROVED,
    split: str | None = None,
    tag: str | None = None,
    author: User | None = None,
    system_instruction: str = "",
    turns: list[dict[str, str]] | None = None,
) -> Example:
    """An example (approved unless told otherwise), checked as the app checks examples."""
    n = next(_counter)
    question = question if question is not None else distinct_text(n, "question")
    answer = answer if answer is not None else distinct_text(n, "answer")
    turns = turns or [{"role": "user", "text": question}, {"role": "model", "text": answer}]
    example = Example(
        project_id=dataset.project_id,
        dataset_id=dataset.id,
        origin="manual",
        system_instruction=system_instruction,
        turns=turns,
        tag=tag,
        split=split,
        status=status,
        issues=[],
        author_id=author.id if author else None,
    )
    examples.recheck(example)  # hashes, token estimate and findings, as after any edit
    session.add(example)
    session.commit()
    return example
