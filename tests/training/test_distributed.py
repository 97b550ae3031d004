"""Two CPU processes (gloo): DistributedDataParallel per parameter group, identical parameters
after every step, the same result as one process on the same global batches, disjoint data,
resume with another world size."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import torch
import torch.multiprocessing as mp

from tests.helpers.toy import PairTask, ddp_worker
from tsb.data.base import ResumableBatchSampler
from tsb.training.checkpoint import load_checkpoint


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_ranks_take_disjoint_slices_of_each_global_batch() -> None:
    full = iter(ResumableBatchSampler(64, 8, seed=1))
    r0 = iter(ResumableBatchSampler(64, 8, seed=1, rank=0, world_size=2))
    r1 = iter(ResumableBatchSampler(64, 8, seed=1, rank=1, world_size=2))
    for _ in range(20):  # across an epoch boundary too
        g, a, b = next(full), next(r0), next(r1)
        assert not set(a) & set(b)
        assert sorted(a + b) == sorted(g)


def test_two_process_training_keeps_ranks_identical_and_resumes(tmp_path: Path) -> None:
    run = tmp_path / "run"
    mp.spawn(ddp_worker, args=(2, free_port(), str(run), 6, None), nprocs=2, join=True)
    s0 = json.loads((run / "sums_rank0.json").read_text())
    s1 = json.loads((run / "sums_rank1.json").read_text())
    assert len(s0) == len(s1) == 6
    assert json.loads((run / "ddp_rank0.json").read_text()) == {"model": "DistributedDataParallel"}
    assert s0 == s1  # bit-identical parameters on both ranks after every step
    assert len(set(s0)) == 6  # and they did change
    # only rank 0 wrote: one metrics line per step + validation lines, not twice as many
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert sum('"train/main/ce"' in line for line in lines) == 6
    assert load_checkpoint(run / "checkpoints" / "last.ckpt")["step"] == 6
    # a checkpoint written with world size 2 resumes with world size 1
    ddp_worker(0, 1, free_port(), str(run), 8, "auto")
    assert load_checkpoint(run / "checkpoints" / "last.ckpt")["step"] == 8
    assert torch.distributed.is_available()


def test_ddp_per_group_with_accumulation_equals_one_process(tmp_path: Path) -> None:
    """A GAN-like task (two groups, each phase runs the other group frozen), 2 micro-batches per
    step: two DDP processes end where one process ends on the same global batches (SGD: the
    averaged gradient of two half batches is the full batch's gradient)."""
    two, one = tmp_path / "two", tmp_path / "one"
    mp.spawn(ddp_worker, args=(2, free_port(), str(two), 4, None, "pair", 2), nprocs=2, join=True)
    ddp_worker(0, 1, free_port(), str(one), 4, None, "pair", 2)
    assert json.loads((two / "ddp_rank1.json").read_text()) == {
        "gen": "DistributedDataParallel",
        "critic": "DistributedDataParallel",
    }
    assert json.loads((one / "ddp_rank0.json").read_text()) == {}  # one process: no wrapper
    p0, p1 = torch.load(two / "params_rank0.pt"), torch.load(two / "params_rank1.pt")
    single = torch.load(one / "params_rank0.pt")
    start = PairTask().state_dict()
    for k in single:
        assert torch.equal(p0[k], p1[k]), k
        assert torch.allclose(p0[k], single[k], atol=1e-6), k
        assert not torch.allclose(single[k], start[k]), k  # every parameter of both groups trained

