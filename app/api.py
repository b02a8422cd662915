"""The JSON API (/api/v1): bearer-token automation. Domains add their routers in ``main``."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from app.auth.dependencies import ApiUser
from app.db import SessionDep
from app.projects import service as projects_service
from app.projects.dependencies import ApiViewAccess

router = APIRouter(prefix="/api/v1", tags=["account"])


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    is_admin: bool
    locale: str | None


class ProjectOut(BaseModel):
    id: int
    name: str
    description: str
    role: str | None
    created_at: datetime


@router.get("/me", response_model=UserOut, name="api:me")
def me(user: ApiUser) -> UserOut:
    """The account the token belongs to."""
    return UserOut(
        id=user.id, email=user.email, name=user.name, is_admin=user.is_admin, locale=user.locale
    )


@router.get("/projects", response_model=list[ProjectOut], name="api:projects", tags=["projects"])
def projects(session: SessionDep, user: ApiUser) -> list[ProjectOut]:
    """Projects the token's owner can see, with their role in each."""
    return [
        ProjectOut(
            id=s.project.id,
            name=s.project.name,
            description=s.project.description,
            role=s.role.value if s.role else None,
            created_at=s.project.created_at,
        )
        for s in projects_service.list_for_user(session, user=user)
    ]


@router.get(
    "/projects/{project_id}", response_model=ProjectOut, name="api:project", tags=["projects"]
)
def project(ctx: ApiViewAccess) -> ProjectOut:
    return ProjectOut(
        id=ctx.project.id,
        name=ctx.project.name,
        description=ctx.project.description,
        role=ctx.role.value if ctx.role else None,
        created_at=ctx.project.created_at,
    )
