"""Shared dependencies as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request

from ragqa.api.errors import ApiError
from ragqa.api.services import Services
from ragqa.config import Settings
from ragqa.principals import Principal
from ragqa.types import Role


def get_services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def get_settings(request: Request) -> Settings:
    return request.app.state.services.settings  # type: ignore[no-any-return]


def get_principal(request: Request) -> Principal:
    principal = getattr(request.state, "principal", None)
    if principal is None:  # the guard lets only open paths through without one; they do not ask for it
        raise ApiError(401, "unauthorized", "an API key is required")
    return principal  # type: ignore[no-any-return]


def require(role: Role) -> Callable[[Principal], Principal]:
    """A dependency: the caller's principal, or 403 ``forbidden`` when its role is weaker than ``role``."""

    def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if not principal.may(role):
            raise ApiError(
                403, "forbidden", f"this API key's role ({principal.role}) may not do this; needs {role}"
            )
        return principal

    return check


ServicesDep = Annotated[Services, Depends(get_services)]


def admit_answer(services: ServicesDep) -> None:
    """429 ``model_busy`` (with Retry-After) when ``API_MODEL_QUEUE`` answers already wait for a model thread."""
    wait = services.model_wait()
    if wait is not None:
        raise ApiError(
            429,
            "model_busy",
            f"every model thread is busy and {services.settings.api_model_queue} answers are waiting; "
            f"retry in about {wait} s",
            {"Retry-After": str(wait)},
        )


AdmittedDep = Annotated[None, Depends(admit_answer)]
CollectionQuery = Annotated[str | None, Query(description="The collection [the server's]", max_length=64)]
ReaderDep = Annotated[Principal, Depends(require("read"))]
WriterDep = Annotated[Principal, Depends(require("write"))]
SettingsDep = Annotated[Settings, Depends(get_settings)]


@dataclass(frozen=True, slots=True)
class Page:
    offset: int
    limit: int


def get_page(offset: int = Query(0, ge=0, le=1_000_000_000), limit: int = Query(50, ge=1, le=500)) -> Page:
    return Page(offset, limit)


PageDep = Annotated[Page, Depends(get_page)]


def collection_for(principal: Principal, services: Services, requested: str | None) -> str:
    """The collection a request works on (``None``: the server's own). Another one must exist (``POST
    /v1/collections``), so a typo is a 404, not a new collection; one the key may not use is the same 404."""
    settings = services.settings_for(requested)
    name = settings.collection
    known = name == services.settings.collection or settings.collection_dir.is_dir()
    if not known or not principal.may_use(name):
        raise ApiError(404, "not_found", f"no collection {name!r}")
    return name
