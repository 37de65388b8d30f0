"""The CPU threads each test process may use. The suite is sized for the 2-core CI machine; under pytest-xdist
each worker gets its share and at least one thread — one each for the three workers of ``-n 3``, which keep both
cores busy while a worker waits on a subprocess or a server (16 min 56 s against 17 min 49 s with two workers, the
same day on the same machine) — because two llama.cpp instances spinning on one core collapse (README "Under
load")."""

from __future__ import annotations

import os

WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
TEST_THREADS = max(1, 2 // WORKERS)
