"""A small cache of what an index derives from a permitted-ids array (a mask, graph positions, a selector),
keyed by the array itself: the searcher hands the same array for every query with the same filter (it caches
them per generation), so the derivation is paid once per filter, not once per query."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T")


class PerFilter(Generic[T]):
    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._items: dict[int, tuple[np.ndarray, T]] = {}

    def get(self, allowed: np.ndarray, derive: Callable[[np.ndarray], T]) -> T:
        held = self._items.get(id(allowed))
        if held is not None and held[0] is allowed:  # the very array (an id may be reused once it is freed)
            return held[1]
        value = derive(allowed)
        if len(self._items) >= self.size:
            self._items.pop(next(iter(self._items)))
        self._items[id(allowed)] = (allowed, value)
        return value
