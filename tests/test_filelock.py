"""Two processes that need the same model folder at the same time: it is made once, and both get it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

MAKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from ragqa.generation.export_cache import building, exported_folder

    gguf, models, log = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])

    def export(source, out):  # the real export's frame (work folder, manifest, rename), a trivial model in it
        with log.open("a") as fh:
            fh.write("export\\n")
        with building(source, out) as work:
            time.sleep(1.5)  # long enough for the other process to arrive while this one works
            (work / "model.txt").write_text("made")

    print(exported_folder(str(gguf), models, suffix="t", marker="model.txt", kind="a test", export=export))
    """
)


def test_two_processes_make_a_model_folder_once(tmp_path: Path) -> None:
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF" + bytes(60))
    models, log = tmp_path / "models", tmp_path / "exports.log"
    both = [
        subprocess.Popen(
            [sys.executable, "-c", MAKER, str(gguf), str(models), str(log)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60)[0].strip() for p in both]
    assert [p.returncode for p in both] == [0, 0]
    assert outputs[0] == outputs[1] == str(models / "tiny-t")
    assert log.read_text().splitlines() == ["export"]  # the second process waited and found it made
    assert (models / "tiny-t" / "model.txt").read_text() == "made"


def test_where_no_lock_file_can_be_made_the_block_still_runs(tmp_path: Path) -> None:
    from ragqa.filelock import exclusive, lock_path

    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")
    # a directory where the lock file should be stands for a read-only cache (root may write anywhere)
    lock_path(model).mkdir(parents=True)
    with exclusive(model):
        assert model.read_bytes() == b"GGUF"
