"""The collections of a data dir: list them with their sizes, create an empty one, delete one for good."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from ragqa.config import Settings
from ragqa.errors import CollectionBusyError, InputError
from ragqa.retrieval.collection import MANIFEST, CollectionWriter
from ragqa.retrieval.docstore import DocStore


@dataclass(frozen=True, slots=True)
class CollectionInfo:
    name: str
    documents: int
    chunks: int
    generation: int  # 0: created or being filled, nothing committed yet


def describe(settings: Settings) -> CollectionInfo:
    manifest = settings.collection_dir / MANIFEST
    if not manifest.is_file():
        return CollectionInfo(settings.collection, 0, 0, 0)
    docstore = DocStore(manifest, readonly=True)
    try:
        counts = docstore.counts()
        return CollectionInfo(
            settings.collection, counts["documents"], counts["chunks"], docstore.generation()
        )
    finally:
        docstore.close()


def list_collections(settings: Settings) -> list[CollectionInfo]:
    """Every collection of the data dir (folders under ``collections/``), by name."""
    root = settings.data_dir / "collections"
    names = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    found = []
    for name in names:
        try:
            found.append(describe(settings.for_collection(name)))
        except InputError:  # a folder whose name cannot be a collection's
            continue
    return found


def create_collection(settings: Settings) -> CollectionInfo:
    """An empty collection named by ``settings.collection``; :class:`InputError` if it exists."""
    if settings.collection_dir.exists():
        raise InputError(f"collection {settings.collection!r} already exists")
    settings.collection_dir.mkdir(parents=True)
    return describe(settings)


def delete_collection(settings: Settings) -> None:
    """Remove the collection, its vectors (in Milvus too) and its uploads. Holds the writer lock meanwhile, so a
    running ingestion makes it :class:`CollectionBusyError` instead of racing it."""
    if not settings.collection_dir.is_dir():
        raise InputError(f"no collection {settings.collection!r}")
    writer = CollectionWriter(settings)  # raises CollectionBusyError while an ingestion writes it
    try:
        if settings.store == "milvus":
            from ragqa.retrieval.milvus_store import drop_collection

            drop_collection(settings)
        shutil.rmtree(settings.collection_dir)
        shutil.rmtree(settings.data_dir / "uploads" / settings.collection, ignore_errors=True)
    except OSError as exc:
        raise CollectionBusyError(f"could not delete collection {settings.collection!r}: {exc}") from exc
    finally:
        writer.close()
