"""Synthetic and real batches in a configured ratio (``data=mixed``).

Each global batch comes whole from one source (so keys such as ``target`` are either present
for the whole batch or absent): batch ``n`` is real when ``u_n < real_ratio``, where the
``u_n`` are uniform numbers drawn from (seed, n // 4096). Within each source, batches follow
that source's own resumable order, so resuming at global batch ``start_batch`` replays exactly:
the number of batches each source has given before it is counted from the same ``u_n``.

``val_dataset()`` is the synthetic source's (it has ground truth); set ``val_from: real`` for
the real source's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from torch.utils.data import ConcatDataset, Dataset, Sampler

from tsb.data.base import DataModule, ResumableBatchSampler
from tsb.errors import ConfigError

BLOCK = 4096
MIX_STREAM = 7


def _real_flags(seed: int, block: int) -> np.ndarray:
    return np.random.default_rng([seed, MIX_STREAM, block]).random(BLOCK)


class MixedBatchSampler(Sampler[list[int]]):
    """Endless batches from two samplers over a ``ConcatDataset`` (offset for the second)."""

    def __init__(
        self,
        lengths: tuple[int, int],
        batch_size: int,
        real_ratio: float,
        seed: int = 0,
        shuffle: bool = True,
        start_batch: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if not 0.0 <= real_ratio <= 1.0:
            raise ConfigError(f"data.real_ratio must be in [0, 1], got {real_ratio}")
        self.lengths, self.real_ratio, self.seed = lengths, real_ratio, seed
        self.start_batch = start_batch
        # how many batches each source gave before start_batch
        n_real = 0
        full, rest = divmod(start_batch, BLOCK)
        for b in range(full):
            n_real += int((_real_flags(seed, b) < real_ratio).sum())
        if rest:
            n_real += int((_real_flags(seed, full)[:rest] < real_ratio).sum())
        counts = (start_batch - n_real, n_real)
        self.samplers = [
            ResumableBatchSampler(n, batch_size, seed + 1000 * k, shuffle, counts[k], rank, world_size)
            if (k == 1 and real_ratio > 0) or (k == 0 and real_ratio < 1)
            else None
            for k, n in enumerate(lengths)
        ]

    def __iter__(self) -> Iterator[list[int]]:
        its = [iter(s) if s is not None else None for s in self.samplers]
        n = self.start_batch
        while True:
            block, off = divmod(n, BLOCK)
            flags = _real_flags(self.seed, block) < self.real_ratio
            for i in range(off, BLOCK):
                k = int(flags[i])
                it = its[k]
                assert it is not None
                batch = next(it)
                yield batch if k == 0 else [j + self.lengths[0] for j in batch]
            n = (block + 1) * BLOCK

    def __len__(self) -> int:
        return sum(n for n in self.lengths) // max(1, self._bs())

    def _bs(self) -> int:
        s = self.samplers[0] or self.samplers[1]
        return s.batch_size if s is not None else 1


class MixedData(DataModule):
    """``synth`` and ``real`` are data modules (instantiated by Hydra from nested nodes)."""

    def __init__(
        self,
        synth: DataModule,
        real: DataModule,
        real_ratio: float = 0.5,
        val_from: str = "synth",
        **loader: Any,
    ) -> None:
        super().__init__(**loader)  # batch_size, num_workers, seed, ...: see DataModule
        if val_from not in ("synth", "real"):
            raise ConfigError(f"data.val_from must be 'synth' or 'real', got {val_from!r}")
        if not 0.0 <= real_ratio <= 1.0:
            raise ConfigError(f"data.real_ratio must be in [0, 1], got {real_ratio}")
        self.synth, self.real = synth, real
        self.real_ratio = float(real_ratio)
        self.val_from = val_from

    def train_dataset(self) -> ConcatDataset:
        return ConcatDataset([self.synth.train_dataset(), self.real.train_dataset()])

    def val_dataset(self) -> Dataset | None:
        return (self.synth if self.val_from == "synth" else self.real).val_dataset()

    def train_batch_sampler(self, dataset: Dataset, start_batch: int) -> Sampler[list[int]]:
        assert isinstance(dataset, ConcatDataset)
        lengths = (len(dataset.datasets[0]), len(dataset.datasets[1]))  # type: ignore[arg-type]
        return MixedBatchSampler(lengths, self.batch_size, self.real_ratio, **self.order_args(start_batch))

    def collate_fn(self) -> Any:
        return self.synth.collate_fn()
