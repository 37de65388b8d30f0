"""Two lighthouses, each with a last keeper: the made-up corpus of the conversation and page tests, served by
the real default model (``lighthouse_server`` in conftest.py: one server per test module)."""

from __future__ import annotations

LIGHTHOUSES = [
    {
        "id": "harrow-point",
        "title": "Harrow Point lighthouse",
        "text": "The Harrow Point lighthouse was first lit in 1852. It stands on a granite ledge at the mouth of "
        "the estuary. Its last keeper was Edith Marlow, who left the station in 1961 when the light was "
        "automated.",
    },
    {
        "id": "gull-rock",
        "title": "Gull Rock lighthouse",
        "text": "The Gull Rock lighthouse was first lit in 1874 on a reef ten miles offshore. Its last keeper "
        "was Tomas Brenn, who kept the light until 1983.",
    },
]
FIRST = "When was the Harrow Point lighthouse first lit?"
FOLLOW_UP = "Who was its last keeper?"
