"""Multi-process training on torch.distributed (torchrun, or SLURM tasks).

One process per device. Ranks start from identical weights (rank 0's are broadcast) and, after
each phase's backward, average their gradients with one ``all_reduce`` over the flattened
gradients of that phase's parameter group (the scheme of NVlabs' StyleGAN3 trainer). Compared to
wrapping modules in ``DistributedDataParallel``, this works unchanged for tasks whose phases run
a module forward with its parameters frozen (a GAN's D step runs G), and it keeps
``state_dict`` keys free of ``module.`` prefixes, so a checkpoint written with one world size
resumes with any other. Only rank 0 logs, writes samples and checkpoints.

Rank and world size come from torchrun's ``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` or from SLURM's
``SLURM_PROCID``/``SLURM_NTASKS``/``SLURM_LOCALID`` (one task per GPU).
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


def wrap_task(task: nn.Module, device: torch.device) -> None:
    """Give every rank rank 0's parameters and buffers."""
    del device
    if not (tdist.is_available() and tdist.is_initialized()):
        return
    with torch.no_grad():
        for t in list(task.parameters()) + list(task.buffers()):
            tdist.broadcast(t.data, src=0)


def reduce_gradients(params: Sequence[nn.Parameter]) -> None:
    """Average the gradients of ``params`` over all ranks (one flat all_reduce)."""
    if not (tdist.is_available() and tdist.is_initialized()) or tdist.get_world_size() == 1:
        return
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.flatten() for g in grads])
    tdist.all_reduce(flat)
    flat /= tdist.get_world_size()
    flat = torch.nan_to_num(flat, nan=0.0, posinf=1e5, neginf=-1e5)
    offset = 0
    for g in grads:
        n = g.numel()
        g.copy_(flat[offset : offset + n].view_as(g))
        offset += n


def average_scalars(scalars: Mapping[str, float], device: torch.device) -> dict[str, float]:
    """Mean of each scalar over ranks (same keys on every rank)."""
    if not scalars or not (tdist.is_available() and tdist.is_initialized()):
        return dict(scalars)
    keys = sorted(scalars)
    t = torch.tensor([scalars[k] for k in keys], dtype=torch.float64, device=device)
    tdist.all_reduce(t)
    t /= tdist.get_world_size()
    return {k: float(v) for k, v in zip(keys, t.tolist())}


def unwrap_task_state(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    return dict(state)


def load_task_state(task: nn.Module, state: Mapping[str, Any]) -> None:
    task.load_state_dict(dict(state))
