"""Finiteness is checked where it is cheap, and a non-finite state is never saved: no host sync
per phase and micro-batch (it stalls a GPU), one at log steps and before every checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.helpers.toy import ToyTask
from tests.training.test_trainer import make_trainer
from tsb.errors import NonFiniteLossError


def test_no_host_sync_in_a_training_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trainer = make_trainer(tmp_path, max_steps=3, log_every_n_steps=100, accumulate_grad_batches=2)
    trainer.setup()
    calls: list[str] = []
    counting_on = [False]
    for name in ("item", "tolist", "__bool__"):
        real = getattr(torch.Tensor, name)

        def counting(self: torch.Tensor, *a: object, _real: object = real, _name: str = name) -> object:
            if counting_on[0]:
                calls.append(_name)
            return _real(self, *a)  # type: ignore[operator]

        monkeypatch.setattr(torch.Tensor, name, counting)
    run_phase = trainer._run_phase

    def counted(*a: object) -> object:  # the phases only (the data loader may sync as it likes)
        counting_on[0] = True
        try:
            return run_phase(*a)  # type: ignore[arg-type]
        finally:
            counting_on[0] = False

    monkeypatch.setattr(trainer, "_run_phase", counted)
    for opt in trainer.optimizers.values():  # Adam reads its CPU step counter with .item(): no device sync
        opt_step = opt.step

        def quiet_step(*a: object, _step: object = opt_step, **k: object) -> object:
            counting_on[0] = False
            try:
                return _step(*a, **k)  # type: ignore[operator]
            finally:
                counting_on[0] = True

        monkeypatch.setattr(opt, "step", quiet_step)
    trainer.train_step()  # 2 phases x 2 micro-batches: the old check synced 4 times
    monkeypatch.undo()
    assert calls == []


def test_nan_between_checks_is_reported_with_its_step_and_never_saved(tmp_path: Path) -> None:
    # a NaN at step 7; the next log step is 10, and a checkpoint is due at step 8 in between
    trainer = make_trainer(tmp_path, task=ToyTask(nan_at_step=7), max_steps=20, val_every_n_steps=20,
                           log_every_n_steps=10, checkpoint_every_n_steps=8)  # fmt: skip
    with pytest.raises(NonFiniteLossError, match=r"phase 'main' is nan at step 7; training stopped at step 8"):
        trainer.run()
    assert not (tmp_path / "checkpoints" / "last.ckpt").exists()
