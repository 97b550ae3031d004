"""Pre-rendered shards (``data=synth_shards``): written in parallel, read back as the renderer's pairs."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate

from tests.conftest import compose_config
from tsb.data import keys as K
from tsb.data.synth import RENDER_STREAM, ShardData, ShardDataset, SynthData, write_shards

TENSORS = (K.STYLE, K.TARGET, K.BACKGROUND, K.CONTENT_SRC, K.CONTENT_TGT, K.MASK_SRC, K.MASK_TGT, K.FONT_ID)


def small(**kw: object) -> SynthData:
    return SynthData(seed=5, train_size=100, val_size=4, batch_size=2, width=128, **kw)  # type: ignore[arg-type]


def test_shards_hold_the_renderer_pairs_whatever_the_worker_count(tmp_path: Path) -> None:
    ds = small().dataset(5, RENDER_STREAM, "train")
    write_shards(ds, 5, tmp_path / "one", shard_size=2, workers=0)
    write_shards(ds, 5, tmp_path / "two", shard_size=2, workers=2)
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == [
        "shard_00000.pt",
        "shard_00001.pt",
        "shard_00002.pt",
    ]
    one, two = ShardDataset(tmp_path / "one"), ShardDataset(tmp_path / "two")
    assert len(one) == len(two) == 5
    for i in range(5):
        rendered, a, b = ds[i], one[i], two[i]
        assert a.keys() == rendered.keys()
        for k in TENSORS:
            assert torch.equal(a[k], b[k]), k
            # uint8 storage: within half a grey level of the rendered floats
            tol = 0.5 / 255 if k in K.MASK_KEYS else 0.5 / 127.5
            assert torch.allclose(a[k].float(), rendered[k].float(), atol=tol + 1e-6), k
        assert (a[K.TEXT_SRC], a[K.TEXT_TGT], a[K.NAME]) == (
            rendered[K.TEXT_SRC],
            rendered[K.TEXT_TGT],
            rendered[K.NAME],
        )


def test_synth_shards_config_trains_resumes_and_splits_ranks(tmp_path: Path) -> None:
    ds = small().dataset(8, RENDER_STREAM, "train")
    write_shards(ds, 8, tmp_path / "train", shard_size=3)
    write_shards(small().dataset(2, RENDER_STREAM, "heldout"), 2, tmp_path / "val")
    cfg = compose_config(
        [
            "data=synth_shards",
            f"data.root={tmp_path / 'train'}",
            f"data.val_root={tmp_path / 'val'}",
            "data.num_workers=0",
            "data.batch_size=2",
            "data.pin_memory=false",
        ],
        tmp_path,
    )
    data = instantiate(cfg.data)
    assert isinstance(data, ShardData)
    batches = list(islice(data.train_loader(), 4))  # the loader is endless: 4 batches = one epoch
    assert batches[0][K.STYLE].shape == (2, 3, 64, 128)
    names = [n for b in batches for n in b[K.NAME]]
    assert sorted(names) == sorted(ds[i][K.NAME] for i in range(8))  # one epoch: every pair once
    # resuming at batch 2 continues the same order
    resumed = next(iter(data.train_loader(start_batch=2)))
    assert resumed[K.NAME] == batches[2][K.NAME]
    # two DDP ranks take disjoint halves of each global batch
    data.setup_distributed(0, 2)
    r0 = [n for b in islice(data.train_loader(), 4) for n in b[K.NAME]]
    data.setup_distributed(1, 2)
    r1 = [n for b in islice(data.train_loader(), 4) for n in b[K.NAME]]
    assert not set(r0) & set(r1) and sorted(r0 + r1) == sorted(names)
    data.setup_distributed(0, 1)
    val = data.val_loader()
    assert val is not None and sum(len(b[K.NAME]) for b in val) == 2


def test_shard_errors_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="render --format shards"):
        ShardDataset(tmp_path)
    with pytest.raises(ValueError, match="variable_width"):
        write_shards(small(variable_width=True).dataset(2, RENDER_STREAM, "train"), 2, tmp_path)


def test_parallel_shards_do_not_need_a_file_descriptor_per_sample(tmp_path: Path) -> None:
    """A worker hands a shard over as a few stacked tensors: under an open-file limit far below
    samples x keys, parallel rendering still works (it died with 'Too many open files' when each
    sample's tensors crossed the process boundary one by one)."""
    import subprocess
    import sys

    code = f"""
import resource
from tsb.data.synth import RENDER_STREAM, SynthData, write_shards
resource.setrlimit(resource.RLIMIT_NOFILE, (96, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
ds = SynthData(seed=5, train_size=100, val_size=4, batch_size=2, height=32, width=64).dataset(60, RENDER_STREAM, "train")
write_shards(ds, 60, __import__("pathlib").Path({str(tmp_path / "s")!r}), shard_size=30, workers=1)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(ShardDataset(tmp_path / "s")) == 60
