"""API response models derived from the domain records, so a field added to a record appears in the API (and in
its OpenAPI schema) without being written twice."""

from __future__ import annotations

import dataclasses
from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, create_model


class ResponseModel(BaseModel):
    """A response body: unknown fields are an error, so a record and its model cannot drift apart silently."""

    model_config = ConfigDict(extra="forbid")


def model_of(
    record: type,
    name: str,
    *,
    exclude: frozenset[str] = frozenset(),
    base: type[BaseModel] = ResponseModel,
    **overrides: Any,
) -> type[BaseModel]:
    """A pydantic model with the dataclass ``record`` 's fields and types, all required (a response always
    carries every field), minus ``exclude``; ``overrides`` give a field another type (a nested response model)."""
    hints = get_type_hints(record)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(record):
        if f.name not in exclude:
            fields[f.name] = (overrides.get(f.name, hints[f.name]), ...)
    unknown = set(overrides) - set(fields)
    if unknown:
        raise TypeError(f"{record.__name__} has no field(s) {', '.join(sorted(unknown))}")
    doc = record.__doc__ or ""
    if doc.startswith(f"{record.__name__}("):  # the signature dataclasses write when there is no docstring
        doc = ""
    return create_model(name, __base__=base, __doc__=doc or None, **fields)
