"""DataModule: what ``cfg.data`` instantiates, and the resumable batch order.

The trainer asks a data module for ``train_loader(start_batch)``, an endless iterator of
batches that starts at global batch number ``start_batch`` (the data position saved in
checkpoints), and for ``val_loader()``. The order of training samples is a pure function of
(seed, epoch), so resuming from a checkpoint replays exactly the batches an uninterrupted run
would have seen. Under DDP each rank takes its slice ``[rank::world_size]`` of every global
batch, so the position is counted in global batches and does not depend on the world size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, Sampler, default_collate

from tsb.errors import ConfigError


class ResumableBatchSampler(Sampler[list[int]]):
    """Endless batches of indices into a data set of ``length`` items.

    Epoch ``e`` is a permutation drawn from ``torch.Generator().manual_seed(seed + e)``
    (or ``range(length)`` when ``shuffle`` is off). Incomplete last batches are dropped.
    """

    def __init__(
        self,
        length: int,
        batch_size: int,
        seed: int = 0,
        shuffle: bool = True,
        start_batch: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        if batch_size % world_size:
            raise ConfigError(
                f"global batch size {batch_size} is not divisible by the world size {world_size}; "
                "set data.batch_size to a multiple of the number of processes"
            )
        if length < batch_size:
            raise ConfigError(
                f"the data set has {length} items, fewer than one batch of {batch_size}; "
                "lower data.batch_size or add data"
            )
        self.length = length
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        self.start_batch = start_batch
        self.rank = rank
        self.world_size = world_size

    @property
    def batches_per_epoch(self) -> int:
        return self.length // self.batch_size

    def _order(self, epoch: int) -> list[int]:
        if not self.shuffle:
            return list(range(self.length))
        g = torch.Generator().manual_seed(self.seed + epoch)
        return torch.randperm(self.length, generator=g).tolist()

    def __iter__(self) -> Iterator[list[int]]:
        n = self.start_batch
        while True:
            epoch, b = divmod(n, self.batches_per_epoch)
            order = self._order(epoch)
            for i in range(b, self.batches_per_epoch):
                batch = order[i * self.batch_size : (i + 1) * self.batch_size]
                yield batch[self.rank :: self.world_size]
            n = (epoch + 1) * self.batches_per_epoch

    def __len__(self) -> int:  # an epoch's worth, for progress displays
        return self.batches_per_epoch


def collate(samples: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """``default_collate`` over the keys that every sample has (missing keys are dropped)."""
    keys = set(samples[0])
    for s in samples[1:]:
        keys &= set(s)
    return default_collate([{k: s[k] for k in keys} for s in samples])


def _seed_worker(worker_id: int) -> None:
    # Samples are functions of (seed, index); nothing to do but keep numpy/python quiet.
    import random
    import signal

    # Ctrl-C and SLURM's SIGTERM reach every process: the main one finishes its step and saves,
    # and a worker killed meanwhile would abort that (torch raises on a dead worker). Workers exit
    # when the loader shuts them down or their parent is gone.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

    import numpy as np

    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)


class DataModule:
    """Base data module: subclasses provide ``train_dataset()`` and ``val_dataset()``.

    Parameters are the loader settings common to every data set; subclasses add their own.
    ``batch_size`` is the *global* batch (summed over DDP processes).
    """

    def __init__(
        self,
        batch_size: int = 16,
        val_batch_size: int | None = None,
        num_workers: int = 0,
        seed: int = 0,
        shuffle: bool = True,
        pin_memory: bool = False,
        persistent_workers: bool = False,
        prefetch_factor: int | None = None,
    ) -> None:
        for key, value, least in (("batch_size", batch_size, 1), ("val_batch_size", val_batch_size, 1),
                                  ("num_workers", num_workers, 0)):  # fmt: skip
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < least):
                raise ConfigError(f"data.{key} must be a whole number >= {least}, got {value!r}")
        self.batch_size = batch_size
        self.val_batch_size = val_batch_size or batch_size
        self.num_workers = num_workers
        self.seed = seed
        self.shuffle = shuffle
        self.pin_memory = pin_memory
        self.persistent_workers = persistent_workers and num_workers > 0
        self.prefetch_factor = prefetch_factor if num_workers > 0 else None
        self.rank = 0
        self.world_size = 1

    # to override -------------------------------------------------------------------------------
    def train_dataset(self) -> Dataset:
        raise NotImplementedError

    def val_dataset(self) -> Dataset | None:
        return None

    def collate_fn(self) -> Callable[[Sequence[dict[str, Any]]], dict[str, Any]]:
        return collate

    def train_batch_sampler(self, dataset: Dataset, start_batch: int) -> Sampler[list[int]]:
        return ResumableBatchSampler(len(dataset), self.batch_size, **self.order_args(start_batch))  # type: ignore[arg-type]

    def order_args(self, start_batch: int) -> dict[str, Any]:
        """The arguments every resumable batch sampler shares: seed, shuffle, position, DDP slice."""
        return {
            "seed": self.seed,
            "shuffle": self.shuffle,
            "start_batch": start_batch,
            "rank": self.rank,
            "world_size": self.world_size,
        }

    # used by the trainer ---------------------------------------------------------------------------
    def setup_distributed(self, rank: int, world_size: int) -> None:
        self.rank = rank
        self.world_size = world_size

    def train_loader(self, start_batch: int = 0) -> DataLoader:
        ds = self.train_dataset()
        return DataLoader(
            ds,
            batch_sampler=self.train_batch_sampler(ds, start_batch),
            num_workers=self.num_workers,
            collate_fn=self.collate_fn(),
            pin_memory=self.pin_memory,
            persistent_workers=self.persistent_workers,
            prefetch_factor=self.prefetch_factor,
            worker_init_fn=_seed_worker,
            # a private generator: creating the loader must not draw from the global torch RNG,
            # or a resumed run would diverge from an uninterrupted one
            generator=torch.Generator().manual_seed(self.seed),
        )

    def val_loader(self) -> DataLoader | None:
        ds = self.val_dataset()
        if ds is None:
            return None
        per_rank = max(1, self.val_batch_size // self.world_size)
        sampler: torch.utils.data.distributed.DistributedSampler | None = None
        if self.world_size > 1:
            sampler = torch.utils.data.distributed.DistributedSampler(
                ds, num_replicas=self.world_size, rank=self.rank, shuffle=False
            )
        return DataLoader(
            ds,
            batch_size=per_rank,
            shuffle=False,
            sampler=sampler,
            num_workers=self.num_workers,
            collate_fn=self.collate_fn(),
            pin_memory=self.pin_memory,
            worker_init_fn=_seed_worker,
            generator=torch.Generator().manual_seed(self.seed + 1),
        )
