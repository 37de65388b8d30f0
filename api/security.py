"""API keys (stored as SHA-256 hashes) and a per-client token-bucket rate limit."""

from __future__ import annotations

import threading
import time

from ragqa.config import LOOPBACK
from ragqa.principals import hash_key

__all__ = ["LOOPBACK", "RateLimiter", "hash_key"]


class RateLimiter:
    """``per_minute`` requests per client, refilled continuously; ``check`` returns seconds to wait (0 = go)."""

    def __init__(self, per_minute: int) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> float:
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1 - tokens) / self.rate
