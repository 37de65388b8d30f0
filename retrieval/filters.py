"""Which documents a search may return: metadata equality / any-of, a source prefix, a list of document ids.

A filter is resolved to the permitted chunk ids (``DocStore.vids_where``) and applied *inside* each retriever
— the BM25 score mask, FAISS's ``IDSelector`` (or an exact scan when few chunks are permitted), a Milvus filter
expression — so a search returns the k best permitted chunks, never fewer because others were cut afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ragqa.errors import InputError
from ragqa.types import ACL_KEY

Scalar = str | int | float | bool


@dataclass(frozen=True, slots=True)
class SearchFilter:
    metadata: tuple[tuple[str, tuple[Scalar, ...]], ...] = ()  # (key, accepted values: any-of), sorted by key
    source_prefix: str | None = None
    doc_ids: frozenset[str] | None = None
    groups: frozenset[str] | None = None  # the caller's groups: documents with an acl need one of them

    def within(self, groups: frozenset[str] | None) -> SearchFilter:
        """This filter, limited to what a caller with ``groups`` may see (``None``: everything)."""
        return self if groups is None else replace(self, groups=groups)

    @classmethod
    def build(
        cls,
        metadata: Mapping[str, Scalar | list[Scalar]] | None = None,
        source_prefix: str | None = None,
        doc_ids: Iterable[str] | None = None,
    ) -> SearchFilter:
        values = tuple(
            sorted((key, tuple(v) if isinstance(v, list) else (v,)) for key, v in (metadata or {}).items())
        )
        for key, accepted in values:
            if not accepted:
                raise InputError(f"filter on metadata {key!r} lists no values")
        return cls(values, source_prefix or None, frozenset(doc_ids) if doc_ids is not None else None)

    @classmethod
    def from_assignments(cls, assignments: Iterable[str]) -> SearchFilter:
        """CLI ``--filter key=value`` (repeatable; a key given twice accepts either value). Values are read as
        JSON when they parse (``year=2024`` is a number, ``draft=true`` a boolean), as text otherwise."""
        metadata: dict[str, list[Scalar]] = {}
        for item in assignments:
            key, sep, raw = item.partition("=")
            if not sep or not key.strip():
                raise InputError(f"--filter wants key=value, got {item!r}")
            try:
                value = json.loads(raw)
            except ValueError:
                value = raw
            if not isinstance(value, str | int | float | bool):
                value = raw
            metadata.setdefault(key.strip(), []).append(value)
        return cls.build(metadata)

    def __bool__(self) -> bool:
        return (
            bool(self.metadata)
            or self.source_prefix is not None
            or self.doc_ids is not None
            or self.groups is not None
        )

    def matches(self, doc_id: str, source: str, metadata: Mapping[str, Any]) -> bool:
        if self.groups is not None and not visible(metadata, self.groups):
            return False
        if self.doc_ids is not None and doc_id not in self.doc_ids:
            return False
        if self.source_prefix is not None and not source.startswith(self.source_prefix):
            return False
        return all(_accepts(metadata.get(key), accepted) for key, accepted in self.metadata)


def visible(metadata: Mapping[str, Any], groups: frozenset[str]) -> bool:
    """A document without an acl is visible to every caller; one with an acl to members of one of its groups."""
    acl = metadata.get(ACL_KEY)
    return not acl or bool(set(acl if isinstance(acl, list) else [acl]) & groups)


def _accepts(value: Any, accepted: tuple[Scalar, ...]) -> bool:
    """A document's value matches when it equals one accepted value; a list value when any element does."""
    values = value if isinstance(value, list) else [value]
    return any(_same(v, a) for v in values for a in accepted)


def _same(value: Any, accepted: Scalar) -> bool:
    if isinstance(value, bool) or isinstance(accepted, bool):
        return value is accepted
    return value == accepted
