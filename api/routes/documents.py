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

from ragqa.api.deps import PageDep, ServicesDep
from ragqa.api.errors import ApiError
from ragqa.api.schemas import DeleteResponse, DocumentOut, DocumentPage, DocumentsIn, ErrorResponse, JobOut
from ragqa.api.services import Services
from ragqa.api.uploads import remove_upload, replace_upload, safe_name, store_upload
from ragqa.ingest.loaders import supported_suffixes
from ragqa.retrieval.collection import CollectionReader

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


async def _save_uploads(services: Services, request: Request) -> list[Path]:
    form = await request.form(max_files=1000)
    uploads = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
    if not uploads:
        raise ApiError(422, "invalid_request", "the form holds no files (field name: files)")
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
    settings = services.settings
    if replace is not None:
        reader = await anyio.to_thread.run_sync(_reader, services)
        row = reader.document(replace)
        if row is None:
            raise ApiError(404, "not_found", f"no document {replace!r} to replace")
        name, data = staged[0]
        return [await anyio.to_thread.run_sync(replace_upload, settings, row.source, name, data)]
    return [await anyio.to_thread.run_sync(store_upload, settings, name, data) for name, data in staged]


async def _save_json(services: Services, request: Request) -> list[Path]:
    try:
        body = DocumentsIn.model_validate_json(await request.body())
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ApiError(422, "invalid_request", problems[:2000]) from exc
    lines = [
        json.dumps({**d.metadata, "_id": d.id, "title": d.title, "text": d.text}, ensure_ascii=False)
        for d in body.documents
    ]
    data = ("\n".join(lines) + "\n").encode()
    return [await anyio.to_thread.run_sync(store_upload, services.settings, "api-documents.jsonl", data)]


@router.post(
    "/v1/documents",
    status_code=202,
    response_model=JobOut,
    openapi_extra=_UPLOAD_BODY,
    responses={413: {"model": ErrorResponse}, 415: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
)
async def upload(request: Request, services: ServicesDep) -> Any:
    """Multipart files (field ``files``) or JSON ``{"documents": [{"id", "text", "title", "metadata"}]}``;
    returns the ingestion job to poll. Each uploaded file is a document of its own, even when another has
    the same name; the same bytes under the same name again change nothing. To replace a document, send one
    file with the form field ``replace`` set to its id."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        paths = await _save_uploads(services, request)
    elif content_type.startswith("application/json"):
        paths = await _save_json(services, request)
    else:
        raise ApiError(415, "unsupported_media_type", "send multipart/form-data files or application/json")
    job = services.jobs.submit(paths)
    return JSONResponse(job.to_json(), status_code=202, headers={"Location": f"/v1/jobs/{job.id}"})


def _reader(services: Services) -> CollectionReader:
    return services.reader()


@router.get("/v1/documents", response_model=DocumentPage)
async def list_documents(services: ServicesDep, page: PageDep) -> DocumentPage:
    reader = await anyio.to_thread.run_sync(_reader, services)
    rows = reader.documents(offset=page.offset, limit=page.limit)
    return DocumentPage(
        documents=[DocumentOut.model_validate(r, from_attributes=True) for r in rows],
        offset=page.offset,
        limit=page.limit,
        total=reader.document_count(),
    )


@router.get(
    "/v1/documents/{doc_id:path}", response_model=DocumentOut, responses={404: {"model": ErrorResponse}}
)
async def get_document(doc_id: str, services: ServicesDep) -> DocumentOut:
    reader = await anyio.to_thread.run_sync(_reader, services)
    row = reader.document(doc_id)
    if row is None:
        raise ApiError(404, "not_found", f"no document {doc_id!r}")
    return DocumentOut.model_validate(row, from_attributes=True)


@router.delete(
    "/v1/documents/{doc_id:path}",
    response_model=DeleteResponse,
    responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}},
)
async def delete_document(doc_id: str, services: ServicesDep) -> DeleteResponse:
    from ragqa.ingest.pipeline import Ingestor

    reader = await anyio.to_thread.run_sync(_reader, services)
    if reader.document(doc_id) is None:
        raise ApiError(404, "not_found", f"no document {doc_id!r}")

    def run() -> list[str]:
        with Ingestor(services.settings, progress=False) as ingestor:
            row = ingestor.writer.docstore.document(doc_id)
            deleted, _ = ingestor.delete([doc_id])
            if row is not None and not ingestor.writer.docstore.docs_of_source(row.source):
                remove_upload(services.settings, row.source)
        services.refresh()
        return deleted

    return DeleteResponse(deleted=await anyio.to_thread.run_sync(run))
