"""Evaluations over the JSON API (/api/v1): list, get, items with outputs and scores, blind
votes and their summary."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["evaluations"])
