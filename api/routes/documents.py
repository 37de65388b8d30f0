"""Documents: upload files or JSON texts (each upload becomes an ingestion job), list, get, delete."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from ragqa.api.deps import CollectionQuery, PageDep, ReaderDep, ServicesDep, WriterDep, collection_for
from ragqa.api.errors import ApiError
from ragqa.api.schemas import (
    DeleteResponse,
    DocumentContentOut,
    DocumentOut,
    DocumentPage,
    DocumentsIn,
    ErrorResponse,
    JobOut,
)
from ragqa.api.services import Services
from ragqa.api.uploads import remove_upload, replace_upload, safe_name, store_upload
from ragqa.errors import IndexMissingError
from ragqa.ingest.access import DocumentAccess
from ragqa.ingest.loaders import supported_suffixes
from ragqa.principals import Principal
from ragqa.retrieval.catalog import describe
from ragqa.retrieval.collection import CollectionReader
from ragqa.retrieval.docstore import DocumentRow
from ragqa.retrieval.filters import visible
from ragqa.types import ACL_KEY

router = APIRouter(tags=["documents"])
_UPLOAD_BODY = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                        "replace": {"type": "string", "description": "id of the document this file replaces"},
                    },
                    "required": ["files"],
                }
            },
            "application/json": {"schema": {"$ref": "#/components/schemas/DocumentsIn"}},
        },
        "required": True,
    }
}


def _check_acl(acl: list[str] | None, principal: Principal) -> None:
    if foreign := DocumentAccess(allowed=principal.visible_groups).foreign(acl):
        raise ApiError(
            403, "acl_not_allowed", f"this API key may not give documents the group(s) {', '.join(foreign)}"
        )


def _form_acl(value: object) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(422, "invalid_request", "'acl' is a comma-separated list of group names")
    groups = [g.strip() for g in value.split(",") if g.strip()]
    return groups or None


async def _save_uploads(
    services: Services, request: Request, principal: Principal, collection: str
) -> tuple[list[Path], list[str] | None]:
    form = await request.form(max_files=1000)
    uploads = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
    if not uploads:
        raise ApiError(422, "invalid_request", "the form holds no files (field name: files)")
    acl = _form_acl(form.get("acl"))
    _check_acl(acl, principal)
    replace = form.get("replace")
    if replace is not None and (not isinstance(replace, str) or len(uploads) != 1):
        raise ApiError(422, "invalid_request", "'replace' names one document id, sent with exactly one file")
    allowed = set(supported_suffixes())
    limit = int(services.settings.max_file_mb * 1024 * 1024)
    staged: list[tuple[str, bytes]] = []
    for upload in uploads:
        name = safe_name(upload.filename or "")
        if Path(name).suffix.lower() not in allowed:
            raise ApiError(
                415,
                "unsupported_media_type",
                f"{name}: file type not accepted; allowed: {', '.join(sorted(allowed))}",
            )
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise ApiError(
                413,
                "payload_too_large",
                f"{name} is over the {services.settings.max_file_mb:g} MB file limit",
            )
        staged.append((name, data))
    settings = services.settings_for(collection)
    if replace is not None:
        row = await _visible(services, replace, principal, collection, "to replace")
        name, data = staged[0]
        return [await anyio.to_thread.run_sync(replace_upload, settings, row.source, name, data)], acl
    paths = [await anyio.to_thread.run_sync(store_upload, settings, name, data) for name, data in staged]
    return paths, acl


async def _save_json(
    services: Services, request: Request, principal: Principal, collection: str
) -> list[Path]:
    try:
        body = DocumentsIn.model_validate_json(await request.body())
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ApiError(422, "invalid_request", problems[:2000]) from exc
    for document in body.documents:
        _check_acl(document.acl, principal)
    lines = [
        json.dumps(
            {
                **d.metadata,
                **({ACL_KEY: d.acl} if d.acl else {}),
                "_id": d.id,
                "title": d.title,
                "text": d.text,
            },
            ensure_ascii=False,
        )
        for d in body.documents
    ]
    data = ("\n".join(lines) + "\n").encode()
    settings = services.settings_for(collection)
    return [await anyio.to_thread.run_sync(store_upload, settings, "api-documents.jsonl", data)]


@router.post(
    "/v1/documents",
    status_code=202,
    response_model=JobOut,
    openapi_extra=_UPLOAD_BODY,
    responses={413: {"model": ErrorResponse}, 415: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
)
async def upload(
    request: Request, services: ServicesDep, principal: WriterDep, collection: CollectionQuery = None
) -> Any:
    """Multipart files (field ``files``) or JSON ``{"documents": [{"id", "text", "title", "metadata"}]}``;
    returns the ingestion job to poll. Each uploaded file is a document of its own, even when another has
    the same name; the same bytes under the same name again change nothing. To replace a document, send one
    file with the form field ``replace`` set to its id. Access: the form field ``acl`` (comma-separated groups)
    or each JSON document's ``acl``; a key that is not admin may name only its own groups."""
    content_type = request.headers.get("content-type", "")
    acl: list[str] | None = None
    name = collection_for(principal, services, collection)
    if content_type.startswith("multipart/form-data"):
        paths, acl = await _save_uploads(services, request, principal, name)
    elif content_type.startswith("application/json"):
        paths = await _save_json(services, request, principal, name)
    else:
        raise ApiError(415, "unsupported_media_type", "send multipart/form-data files or application/json")
    access = DocumentAccess(tuple(acl) if acl else None, principal.visible_groups)
    job = services.jobs.submit(paths, owner=principal.name, access=access, collection=name)
    return JSONResponse(job.to_json(), status_code=202, headers={"Location": f"/v1/jobs/{job.id}"})


def _reader(services: Services, collection: str) -> CollectionReader | None:
    """The collection's reader; ``None`` while nothing is committed in it (its documents list as empty)."""
    if services.created_empty(collection):
        return None
    try:
        return services.reader(collection)
    except IndexMissingError:
        if describe(services.settings_for(collection)).generation == 0:  # nothing ingested yet
            return None
        raise


async def _visible(
    services: Services, doc_id: str, principal: Principal, collection: str, purpose: str = ""
) -> DocumentRow:
    """The document, or 404 — the same answer whether it does not exist or the caller may not see it."""
    reader = await anyio.to_thread.run_sync(_reader, services, collection)
    row = reader.document(doc_id) if reader is not None else None
    groups = principal.visible_groups
    if row is None or (groups is not None and not visible(row.metadata, groups)):
        raise ApiError(404, "not_found", f"no document {doc_id!r}{' ' + purpose if purpose else ''}")
    return row


@router.get("/v1/documents", response_model=DocumentPage)
async def list_documents(
    services: ServicesDep, page: PageDep, principal: ReaderDep, collection: CollectionQuery = None
) -> DocumentPage:
    reader = await anyio.to_thread.run_sync(
        _reader, services, collection_for(principal, services, collection)
    )
    groups = principal.visible_groups
    rows, total = await anyio.to_thread.run_sync(
        lambda: reader.documents_visible(groups, offset=page.offset, limit=page.limit) if reader else ([], 0)
    )
    return DocumentPage(
        documents=[DocumentOut.model_validate(r, from_attributes=True) for r in rows],
        offset=page.offset,
        limit=page.limit,
        total=total,
    )


@router.get(
    "/v1/documents/{doc_id:path}/content",
    response_model=DocumentContentOut,
    responses={404: {"model": ErrorResponse}},
)
async def document_content(
    doc_id: str, services: ServicesDep, principal: ReaderDep, collection: CollectionQuery = None
) -> Any:
    """The document's text as indexed and its chunks' character spans (a source's ``span`` points into it),
    for showing a cited passage in place."""
    name = collection_for(principal, services, collection)
    await _visible(services, doc_id, principal, name)
    reader = await anyio.to_thread.run_sync(_reader, services, name)
    content = await anyio.to_thread.run_sync(reader.content, doc_id) if reader is not None else None
    if content is None:  # deleted in between
        raise ApiError(404, "not_found", f"no document {doc_id!r}")
    return DocumentContentOut.model_validate(content, from_attributes=True)


@router.get(
    "/v1/documents/{doc_id:path}", response_model=DocumentOut, responses={404: {"model": ErrorResponse}}
)
async def get_document(
    doc_id: str, services: ServicesDep, principal: ReaderDep, collection: CollectionQuery = None
) -> DocumentOut:
    name = collection_for(principal, services, collection)
    return DocumentOut.model_validate(await _visible(services, doc_id, principal, name), from_attributes=True)


@router.delete(
    "/v1/documents/{doc_id:path}",
    response_model=DeleteResponse,
    responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}},
)
async def delete_document(
    doc_id: str, services: ServicesDep, principal: WriterDep, collection: CollectionQuery = None
) -> DeleteResponse:
    from ragqa.ingest.pipeline import Ingestor

    name = collection_for(principal, services, collection)
    await _visible(services, doc_id, principal, name)
    settings = services.settings_for(name)

    def run() -> list[str]:
        with Ingestor(settings, progress=False) as ingestor:
            row = ingestor.writer.docstore.document(doc_id)
            deleted, _ = ingestor.delete([doc_id])
            if row is not None and not ingestor.writer.docstore.docs_of_source(row.source):
                remove_upload(settings, row.source)
        services.refresh()
        return deleted

    return DeleteResponse(deleted=await anyio.to_thread.run_sync(run))
