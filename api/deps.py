"""Shared dependencies as ``Annotated`` aliases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request

from ragqa.api.services import Services
from ragqa.config import Settings


def get_services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def get_settings(request: Request) -> Settings:
    return request.app.state.services.settings  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


@dataclass(frozen=True, slots=True)
class Page:
    offset: int
    limit: int


def get_page(offset: int = Query(0, ge=0, le=1_000_000_000), limit: int = Query(50, ge=1, le=500)) -> Page:
    return Page(offset, limit)


PageDep = Annotated[Page, Depends(get_page)]
