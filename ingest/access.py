"""Who may see a document: its ``acl`` (groups), set or checked as it is ingested."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ragqa.errors import DocumentError
from ragqa.types import ACL_KEY, Document


@dataclass(frozen=True, slots=True)
class DocumentAccess:
    """``acl``: groups given to every document ingested (replacing any a record carries); ``allowed``: the
    groups a document's acl may name (an API key's own groups; ``None`` = any)."""

    acl: tuple[str, ...] | None = None
    allowed: frozenset[str] | None = None

    def foreign(self, acl: list[str] | None) -> list[str]:
        """The groups of ``acl`` outside ``allowed``: what this key may not give a document."""
        if self.allowed is None or not acl:
            return []
        return sorted(set(acl) - self.allowed)

    def apply(self, document: Document) -> Document:
        if self.acl is not None:
            document = replace(document, metadata={**document.metadata, ACL_KEY: list(self.acl)})
        acl = document.metadata.get(ACL_KEY)
        if acl is not None and (not isinstance(acl, list) or not all(isinstance(g, str) and g for g in acl)):
            raise DocumentError(f"document {document.doc_id!r}: {ACL_KEY} must be a list of group names")
        if foreign := self.foreign(acl):
            raise DocumentError(
                f"document {document.doc_id!r}: {ACL_KEY} names group(s) this key does not belong to: "
                f"{', '.join(foreign)}"
            )
        return document
