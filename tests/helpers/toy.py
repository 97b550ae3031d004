"""A small real task for testing the trainer: classify which quadrant of a noisy 8x8 image is lit.

Two phases share one optimizer (``main`` every step, ``reg`` every 2nd step: a tiny weight
penalty), dropout draws from the global RNG (so exact resume needs RNG restore), and ``net`` is
an EMA module. ``nan_at_step`` injects a NaN loss.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from tsb.data.base import DataModule
from tsb.tasks.base import Phase, PhaseOutput, Task


class QuadrantSet(Dataset):
    def __init__(self, n: int, seed: int) -> None:
        self.n = n
        self.seed = seed

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict[str, object]:
        g = torch.Generator().manual_seed(self.seed * 100003 + i)
        label = int(torch.randint(0, 4, (1,), generator=g))
        img = torch.randn(1, 8, 8, generator=g) * 0.5
        r, c = divmod(label, 2)
        img[:, r * 4 : r * 4 + 4, c * 4 : c * 4 + 4] += 1.5
        return {"style": img, "font_id": torch.tensor(label)}


class ToyData(DataModule):
    def __init__(self, train_size: int = 256, val_size: int = 32, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.train_size = train_size
        self.val_size = val_size

    def train_dataset(self) -> Dataset:
        return QuadrantSet(self.train_size, self.seed)

    def val_dataset(self) -> Dataset:
        return QuadrantSet(self.val_size, self.seed + 7)


class ToyTask(Task):
    def __init__(self, loss: object = None, nan_at_step: int | None = None) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 4)
        )
        self.nan_at_step = nan_at_step

    def phases(self) -> list[Phase]:
        return [Phase("main", "model"), Phase("reg", "model", interval=2)]

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"model": list(self.net.parameters())}

    def phase_loss(self, phase: Phase, batch: dict[str, object], step: int) -> PhaseOutput:
        if phase.name == "main":
            logits = self.net(batch["style"])
            loss = nn.functional.cross_entropy(logits, batch["font_id"])  # type: ignore[arg-type]
            if self.nan_at_step is not None and step == self.nan_at_step:
                loss = loss * float("nan")
            return PhaseOutput(loss, {"ce": loss.detach()})
        reg = 1e-4 * sum(p.pow(2).sum() for p in self.net.parameters())
        return PhaseOutput(reg, {"l2": reg.detach()})  # type: ignore[arg-type]

    @torch.no_grad()
    def validation_step(self, batch: dict[str, object]) -> dict[str, Tensor]:
        logits = self.net(batch["style"])
        y = batch["font_id"]
        return {
            "ce": nn.functional.cross_entropy(logits, y),  # type: ignore[arg-type]
            "acc": (logits.argmax(1) == y).float().mean(),
        }

    @torch.no_grad()
    def sample(self, batch: dict[str, object]) -> Tensor:
        x = batch["style"][:8]  # type: ignore[index]
        return (
            ((x - x.min()) / (x.max() - x.min() + 1e-8))
            .repeat(1, 3, 1, 1)
            .permute(1, 2, 0, 3)
            .reshape(3, 8, -1)
        )

    def ema_modules(self) -> list[str]:
        return ["net"]


class PairTask(Task):
    """Two parameter groups, GAN-like: ``critic`` scores ``gen``'s output, each phase runs the
    other group's module forward while it is frozen. No dropout: runs are exactly reproducible,
    so a 2-process run can be compared with a 1-process run on the same global batches."""

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.gen = nn.Linear(64, 64)
        self.critic = nn.Sequential(nn.Linear(64, 16), nn.Tanh(), nn.Linear(16, 1))
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.2)

    def phases(self) -> list[Phase]:
        return [Phase("critic", "critic"), Phase("gen", "gen")]

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"gen": list(self.gen.parameters()), "critic": list(self.critic.parameters())}

    def phase_loss(self, phase: Phase, batch: dict[str, object], step: int) -> PhaseOutput:
        x = batch["style"].flatten(1)  # type: ignore[union-attr]
        fake = self.gen(x)
        if phase.name == "critic":
            loss = (
                nn.functional.softplus(self.critic(fake.detach())).mean()
                + nn.functional.softplus(-self.critic(x)).mean()
            )
        else:
            loss = nn.functional.softplus(-self.critic(fake)).mean() + 0.1 * (fake - x).abs().mean()
        return PhaseOutput(loss, {"loss": loss.detach()})

    @torch.no_grad()
    def validation_step(self, batch: dict[str, object]) -> dict[str, Tensor]:
        x = batch["style"].flatten(1)  # type: ignore[union-attr]
        return {"l1": (self.gen(x) - x).abs().mean()}

    @torch.no_grad()
    def sample(self, batch: dict[str, object]) -> Tensor:
        return torch.zeros(3, 8, 8)


def ddp_worker(
    rank: int,
    world: int,
    port: int,
    run_dir: str,
    max_steps: int,
    ckpt: str | None,
    task: str = "toy",
    accumulate: int = 1,
) -> None:
    """One process of a CPU/gloo run of a toy task; records a parameter checksum per step, the
    final parameters, and which DistributedDataParallel wrappers the trainer built."""
    import json
    import os
    from pathlib import Path

    from omegaconf import OmegaConf

    from tsb.logger.jsonl import JsonlLogger
    from tsb.training import distributed as dist
    from tsb.training.trainer import Trainer
    from tsb.utils.seed import seed_everything

    os.environ.update(
        {
            "RANK": str(rank),
            "WORLD_SIZE": str(world),
            "LOCAL_RANK": str(rank),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
        }
    )
    torch.set_num_threads(1)
    dist.init("gloo")
    seed_everything(100 + rank)  # different init on purpose: rank 0's weights must win
    sums: list[float] = []

    class Recording(Trainer):
        def train_step(self) -> dict[str, Tensor]:
            out = super().train_step()
            sums.append(float(sum(p.detach().double().sum() for p in self.task.parameters())))
            return out

    optim = "torch.optim.Adam" if task == "toy" else "torch.optim.SGD"
    opt = OmegaConf.create({"default": {"_target_": optim, "_partial_": True, "lr": 0.01}})
    trainer = Recording(
        ToyTask() if task == "toy" else PairTask(),
        ToyData(batch_size=8, seed=3),
        opt,
        Path(run_dir),
        loggers=[JsonlLogger()],
        max_steps=max_steps,
        val_every_n_steps=5,
        limit_val_batches=2,
        log_every_n_steps=1,
        ema_decay=0.9 if task == "toy" else None,
        progress_bar=False,
        device="cpu",
        accumulate_grad_batches=accumulate,
    )
    trainer.run(ckpt_path=ckpt)
    Path(run_dir, f"sums_rank{rank}.json").write_text(json.dumps(sums))
    wrappers = {g: type(m).__name__ for g, m in trainer._ddp.items()}
    Path(run_dir, f"ddp_rank{rank}.json").write_text(json.dumps(wrappers))
    torch.save(
        {k: v.detach().clone() for k, v in trainer.task.state_dict().items()},
        Path(run_dir, f"params_rank{rank}.pt"),
    )
    dist.cleanup()
