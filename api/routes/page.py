"""The web page at ``/`` (plain HTML, CSS and JavaScript shipped in the package; nothing from a CDN) and
``/v1/info``, the server defaults it shows."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from ragqa import __version__
from ragqa.api.deps import SettingsDep
from ragqa.api.schemas import InfoResponse
from ragqa.generation.sampling import SamplingParams
from ragqa.types import SEARCH_MODES, VERIFY_MODES

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
PAGE_FIELDS = ("temperature", "top_p", "top_k", "max_tokens")  # the sampling knobs the page offers

router = APIRouter()


@router.get("/", include_in_schema=False)
async def page() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


@router.get("/v1/info", response_model=InfoResponse, tags=["operations"])
async def info(settings: SettingsDep) -> InfoResponse:
    """Version, collection, whether API keys are required, and the defaults a request gets when it leaves an
    option out (no key needed: the page reads it before asking for one)."""
    sampling = SamplingParams().model_dump(include=set(PAGE_FIELDS))
    return InfoResponse(
        version=__version__,
        collection=settings.collection,
        keys_required=settings.keys_configured,
        search_modes=list(SEARCH_MODES),
        verify_modes=list(VERIFY_MODES),
        defaults={
            "mode": settings.search_mode,
            "k": settings.answer_k,
            "verify": settings.verify,
            "sampling": sampling,
        },
    )
