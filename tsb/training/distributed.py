"""Multi-process training on torch.distributed (torchrun, or SLURM tasks) with DistributedDataParallel.

One process per device. Each *parameter group* of the task (``Task.param_groups()``, e.g.
generator and discriminator) gets its own ``DistributedDataParallel`` wrapper
(:class:`GroupModule`: those parameters only, ``forward`` = ``task.phase_loss``), so DDP's bucketed
all-reduce overlaps each phase's backward and averages exactly that phase's gradients. This is
the scheme of NVlabs' StyleGAN2-ADA trainer (one DDP per network), generalised to our phases:

- a phase runs through its group's wrapper; the other groups' wrappers are not called, so their
  reducers stay idle even when their modules run forward frozen (a GAN's G step runs D);
- ``find_unused_parameters`` (default on) lets a phase use part of its group (path-length
  regularisation uses only the generator's synthesis part);
- gradient accumulation runs every micro-batch but the last under ``no_sync()``;
- the wrappers hold no state of their own: ``state_dict`` keys have no ``module.`` prefix, so a
  checkpoint written with one world size resumes with any other.

Buffers (batch-norm statistics) are broadcast from rank 0 at start; only rank 0 logs, writes
samples and checkpoints. Rank and world size come from torchrun's ``RANK``/``WORLD_SIZE``/
``LOCAL_RANK`` or from SLURM's ``SLURM_PROCID``/``SLURM_NTASKS``/``SLURM_LOCALID`` (one task per GPU).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.distributed as tdist
from torch import Tensor, nn


def _env_int(*names: str, default: int) -> int:
    for n in names:
        v = os.environ.get(n)
        if v not in (None, ""):
            return int(v)  # type: ignore[arg-type]
    return default


def world_size() -> int:
    if tdist.is_available() and tdist.is_initialized():
        return tdist.get_world_size()
    return _env_int("WORLD_SIZE", "SLURM_NTASKS", default=1)


def rank() -> int:
    if tdist.is_available() and tdist.is_initialized():
        return tdist.get_rank()
    return _env_int("RANK", "SLURM_PROCID", default=0)


def local_rank() -> int:
    return _env_int("LOCAL_RANK", "SLURM_LOCALID", default=0)


def is_distributed() -> bool:
    return world_size() > 1


def init(backend: str | None = None) -> bool:
    """Join the process group when launched with several processes; no-op for one process.

    Returns True when a process group is active. ``MASTER_ADDR``/``MASTER_PORT`` come from
    torchrun, or (under SLURM) from the first node of ``SLURM_JOB_NODELIST`` and a port
    derived from the job id.
    """
    if not is_distributed():
        return False
    if tdist.is_initialized():
        return True
    if "SLURM_PROCID" in os.environ and "RANK" not in os.environ:
        os.environ.setdefault("MASTER_ADDR", _slurm_master_addr())
        os.environ.setdefault("MASTER_PORT", str(20000 + int(os.environ.get("SLURM_JOB_ID", "0")) % 20000))
    backend = backend or ("nccl" if torch.cuda.is_available() else "gloo")
    if torch.cuda.is_available():
        torch.cuda.set_device(local_rank())
    tdist.init_process_group(backend=backend, rank=rank(), world_size=world_size())
    return True


def _slurm_master_addr() -> str:
    nodes = os.environ.get("SLURM_JOB_NODELIST", "127.0.0.1")
    try:
        import subprocess

        out = subprocess.run(["scontrol", "show", "hostnames", nodes], capture_output=True, text=True, check=True)
        return out.stdout.split()[0]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return nodes.split(",")[0].split("[")[0]


def cleanup() -> None:
    if tdist.is_available() and tdist.is_initialized():
        tdist.destroy_process_group()


def barrier() -> None:
    if tdist.is_available() and tdist.is_initialized():
        tdist.barrier()


def broadcast_object(obj: Any) -> Any:
    """Rank 0's value of ``obj`` on every rank (identity without a process group)."""
    if not (tdist.is_available() and tdist.is_initialized()):
        return obj
    box = [obj]
    tdist.broadcast_object_list(box, src=0)
    return box[0]


def broadcast_state(task: nn.Module) -> None:
    """Give every rank rank 0's parameters and buffers (also those outside the DDP groups)."""
    if not (tdist.is_available() and tdist.is_initialized()):
        return
    with torch.no_grad():
        for t in list(task.parameters()) + list(task.buffers()):
            tdist.broadcast(t.data, src=0)


class GroupModule(nn.Module):
    """One parameter group of a task as DDP sees it: those parameters, and ``forward`` = the phase loss.

    The task is held as a plain attribute, not a submodule, so that DDP registers hooks on (and
    broadcasts) this group's parameters only. ``forward(phase, batch, step)`` returns
    ``(loss, logs)`` (a tuple, which DDP searches for the tensors of the backward graph).
    """

    def __init__(self, task: nn.Module, params: Sequence[nn.Parameter]) -> None:
        super().__init__()
        object.__setattr__(self, "task", task)
        self.params = nn.ParameterList(params)

    def forward(self, phase: Any, batch: Any, step: int) -> tuple[Tensor, dict[str, Tensor]]:
        out = self.task.phase_loss(phase, batch, step)  # type: ignore[operator,union-attr]
        return out.loss, out.logs


def ddp_groups(
    task: nn.Module,
    groups: Mapping[str, Sequence[nn.Parameter]],
    device: torch.device,
    find_unused_parameters: bool = True,
    bucket_cap_mb: float | None = None,
) -> dict[str, nn.parallel.DistributedDataParallel]:
    """One ``DistributedDataParallel`` per parameter group; empty without a process group."""
    if not (tdist.is_available() and tdist.is_initialized()):
        return {}
    wrapped = {}
    for name, params in groups.items():
        params = list(params)
        if not params:
            continue
        for p in params:  # DDP hooks only the parameters that require grad when it is built
            p.requires_grad_(True)
        kw: dict[str, Any] = {"find_unused_parameters": find_unused_parameters, "broadcast_buffers": False}
        if bucket_cap_mb is not None:
            kw["bucket_cap_mb"] = bucket_cap_mb
        if device.type == "cuda":
            kw["device_ids"] = [device.index if device.index is not None else local_rank()]
        wrapped[name] = nn.parallel.DistributedDataParallel(GroupModule(task, params), **kw)
    return wrapped


def average_scalars(scalars: Mapping[str, float], device: torch.device) -> dict[str, float]:
    """Mean of each scalar over ranks (same keys on every rank)."""
    if not scalars or not (tdist.is_available() and tdist.is_initialized()):
        return dict(scalars)
    keys = sorted(scalars)
    t = torch.tensor([scalars[k] for k in keys], dtype=torch.float64, device=device)
    tdist.all_reduce(t)
    t /= tdist.get_world_size()
    return {k: float(v) for k, v in zip(keys, t.tolist())}


def max_over_ranks(value: int, device: torch.device) -> int:
    """The largest ``value`` of all ranks (``value`` itself without a process group)."""
    if not (tdist.is_available() and tdist.is_initialized()):
        return value
    t = torch.tensor([value], dtype=torch.int64, device=device)
    tdist.all_reduce(t, op=tdist.ReduceOp.MAX)
    return int(t.item())
