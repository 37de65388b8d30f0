"""Optional features and the pip extra that installs each: a missing one is a clear error naming the extra."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Literal

from ragqa.errors import MissingExtraError

Extra = Literal["milvus", "eval"]


def require(module: str, extra: Extra, feature: str) -> ModuleType:
    """Import ``module``, or raise :class:`MissingExtraError` saying that ``feature`` needs ``ragqa[extra]``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"{feature} needs the optional package {module!r}: pip install 'ragqa[{extra}]' "
            f"(in a source checkout: pip install -e '.[{extra}]')"
        ) from exc
