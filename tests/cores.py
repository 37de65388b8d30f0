"""The CPU threads each test process may use. The suite is sized for the 2-core CI machine; under pytest-xdist
each worker gets its share, because two llama.cpp instances spinning on one core collapse (README "Under load")."""

from __future__ import annotations

import os

WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
TEST_THREADS = max(1, 2 // WORKERS)
