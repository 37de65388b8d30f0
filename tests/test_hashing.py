from __future__ import annotations

import hashlib
from pathlib import Path

from ragqa.hashing import file_sha256


def test_file_sha256_matches_a_whole_file_hash_across_block_boundaries(tmp_path: Path) -> None:
    data = bytes(range(256)) * 8193  # a little over two 1 MiB blocks
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
    path.write_bytes(b"")
    assert file_sha256(path) == hashlib.sha256(b"").hexdigest()
