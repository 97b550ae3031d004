"""FolderStorage: atomic copies of run files into a mirror folder; failures retried by flush."""

from __future__ import annotations

from pathlib import Path

import pytest

from tsb.storage.local import FolderStorage


def test_mirror_round_trip_and_retry(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    ckpt = run / "checkpoints" / "last.ckpt"
    ckpt.write_bytes(b"v1")
    st = FolderStorage(str(tmp_path / "mirror"))
    st.setup(run, "run1")
    st.upload(ckpt, "checkpoints/last.ckpt")
    assert (tmp_path / "mirror" / "run1" / "checkpoints" / "last.ckpt").read_bytes() == b"v1"
    ckpt.write_bytes(b"v2")
    st.upload(ckpt, "checkpoints/last.ckpt")  # overwrite
    assert (tmp_path / "mirror" / "run1" / "checkpoints" / "last.ckpt").read_bytes() == b"v2"

    # the mirror's sub-folder is blocked by a file: the copy fails, stays pending, flush retries
    (tmp_path / "mirror" / "run1" / "samples").write_text("in the way")
    grid = run / "grid.png"
    grid.write_bytes(b"png")
    st.upload(grid, "samples/grid.png")
    assert st.pending == ["samples/grid.png"]
    (tmp_path / "mirror" / "run1" / "samples").unlink()
    st.flush()
    assert st.pending == [] and (tmp_path / "mirror" / "run1" / "samples" / "grid.png").read_bytes() == b"png"
    assert not list((tmp_path / "mirror").rglob("*.tmp"))

    back = st.download("checkpoints/last.ckpt", tmp_path / "back.ckpt")
    assert back.read_bytes() == b"v2"
    with pytest.raises(ValueError, match="relative path"):
        st.upload(grid, "../escape.png")
