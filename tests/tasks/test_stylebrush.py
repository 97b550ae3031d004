"""StyleBrushTask on the real networks and loss configs: phases, gradients, samples, inference."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from omegaconf import DictConfig

from tests.helpers.nets import write_recognizer_ckpt, write_typeface_ckpt
from tests.tasks.pairs import make_pairs
from tsb.errors import ConfigError
from tsb.losses import D_REG, G_REG, D, G
from tsb.tasks.base import Phase
from tsb.tasks.stylebrush import StyleBrushTask
from tsb.train import build_task

# quickstart with its adversarial and cycle terms turned on, as on the command line
GAN = ["loss.adversarial.weight=0.1", "loss.r1.weight=1", "loss.cycle.weight=1"]


def build(tiny_cfg: Callable[..., DictConfig], overrides: list[str] | None = None) -> StyleBrushTask:
    task = build_task(tiny_cfg(overrides))
    assert isinstance(task, StyleBrushTask)
    return task


def test_quickstart_has_only_a_generator_phase(tiny_cfg: Callable[..., DictConfig]) -> None:
    task = build(tiny_cfg)
    assert task.phases() == [Phase(G, "generator", 1)]
    assert set(task.param_groups()) == {"generator"}


def test_gan_phases_groups_and_intervals(tiny_cfg: Callable[..., DictConfig]) -> None:
    task = build(tiny_cfg, GAN)
    assert task.phases() == [
        Phase(D, "discriminator", 1),
        Phase(D_REG, "discriminator", 16, double_backward=True),  # R1 differentiates a gradient
        Phase(G, "generator", 1),
    ]
    groups = task.param_groups()
    assert set(groups) == {"generator", "discriminator"}
    assert len(groups["generator"]) == len(list(task.net.parameters()))
    assert task.ema_modules() == ["net"]


def test_loss_config_changes_are_command_line_changes(tiny_cfg: Callable[..., DictConfig]) -> None:
    task = build(tiny_cfg, [*GAN, "loss.supervised.weight=2", "loss.r1.interval=4", "~loss.mask"])
    assert task.loss is not None and task.loss["supervised"].weight == 2.0 and "mask" not in task.loss
    assert Phase(D_REG, "discriminator", 4, double_backward=True) in task.phases()
    recon = build(tiny_cfg, ["loss=recon", "loss.cycle.weight=0.5"])
    assert recon.loss is not None and recon.loss["cycle"].weight == 0.5


def run_phase(task: StyleBrushTask, phase: Phase, batch: dict) -> dict[str, torch.Tensor]:
    """As the trainer does: only the phase's group requires grad; backward; return the logs."""
    groups = task.param_groups()
    for name, params in groups.items():
        for p in params:
            p.requires_grad_(name == phase.group)
            p.grad = None
    out = task.phase_loss(phase, batch, step=0)
    assert out.loss.dim() == 0 and torch.isfinite(out.loss)
    out.loss.backward()
    return out.logs


def test_each_phase_trains_only_its_group(tiny_cfg: Callable[..., DictConfig]) -> None:
    task = build(tiny_cfg, [*GAN, "+loss.path_length._target_=tsb.losses.adversarial.PathLengthPenalty"])
    batch = make_pairs(4, 64)
    for phase in task.phases():
        logs = run_phase(task, phase, batch)
        other = "discriminator" if phase.group == "generator" else "generator"
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in task.param_groups()[phase.group])
        assert all(p.grad is None for p in task.param_groups()[other]), phase
        if phase.name == G:
            assert set(logs) == {"adversarial", "reconstruction", "cycle", "mask", "supervised"}
        if phase.name == G_REG:
            assert "pl_length" in logs


def test_sample_grid_layout(tiny_cfg: Callable[..., DictConfig]) -> None:
    task = build(tiny_cfg)
    task.eval()
    grid = task.sample(make_pairs(3, 64))
    # rows: samples; columns: style | content_tgt | output | mask | target; 2 px padding
    assert grid.shape == (3, 3 * 66 + 2, 5 * 66 + 2)
    assert float(grid.min()) >= 0.0 and float(grid.max()) <= 1.0
    batch = make_pairs(2, 64)
    del batch["target"]
    assert task.sample(batch).shape[-1] == 4 * 66 + 2


def test_the_sample_grid_gives_the_old_words_text_as_validation_does(tiny_cfg: Callable[..., DictConfig]) -> None:
    task = build(tiny_cfg)
    task.eval()
    seen: list[torch.Tensor | None] = []
    generate = task.generate
    task.generate = lambda style, content, source=None: (seen.append(source), generate(style, content, source))[1]
    batch = make_pairs(3, 64)
    task.sample(batch)
    assert seen[-1] is not None and torch.equal(seen[-1], batch["content_src"][:3])
    del batch["content_src"]
    task.sample(batch)
    assert seen[-1] is None


def test_validation_metrics(tiny_cfg: Callable[..., DictConfig]) -> None:
    task = build(tiny_cfg)
    task.eval()
    batch = make_pairs(2, 64)
    metrics = task.validation_step(batch)
    assert set(metrics) == {"l1", "mse", "psnr", "copy_psnr", "mask_l1", "recon_l1"}
    assert all(torch.isfinite(v) and v.dim() == 0 for v in metrics.values())
    copy = ((batch["style"] - batch["target"]) / 2).square().flatten(1).mean(1)  # the row to beat
    assert float(metrics["copy_psnr"]) == pytest.approx(float((10 * torch.log10(1 / copy)).mean()), rel=1e-4)
    with torch.no_grad():
        out = task.generate(batch["style"], batch["content_tgt"]).image.clamp(-1, 1)
    mse = ((out - batch["target"]) / 2).square().flatten(1).mean(1)  # on [0, 1] pixels, per image
    assert float(metrics["mse"]) == pytest.approx(float(mse.mean()), rel=1e-4)
    assert float(metrics["psnr"]) == pytest.approx(float((10 * torch.log10(1 / mse)).mean()), rel=1e-4)


def test_inference_with_loss_none(tiny_cfg: Callable[..., DictConfig]) -> None:
    cfg = tiny_cfg()
    from hydra.utils import instantiate

    task = instantiate(cfg.model, loss=None)
    batch = make_pairs(2, 64)
    out = task.generate(batch["style"], batch["content_tgt"])
    assert out.image.shape == (2, 3, 64, 64) and out.mask.shape == (2, 1, 64, 64)
    with pytest.raises(RuntimeError, match="loss=None"):
        task.phases()
    assert {k.split(".")[0] for k in task.state_dict()} == {"net", "discriminator"}


def test_helpers_stay_out_of_state_and_frozen(tiny_cfg: Callable[..., DictConfig], tmp_path: Path) -> None:
    (tmp_path / "checkpoints").mkdir()
    write_typeface_ckpt(tmp_path / "checkpoints" / "typeface.ckpt")
    write_recognizer_ckpt(tmp_path / "checkpoints" / "recognizer.ckpt")
    task = build(tiny_cfg, ["loss=paper"])
    plain = build(tiny_cfg)
    assert task.state_dict().keys() == plain.state_dict().keys()  # a checkpoint loads under any loss
    task.train()
    helpers = [task.loss[n] for n in ("perceptual", "recognition")]  # type: ignore[index]
    nets = [helpers[0].classifier.net, helpers[1].recognizer.net]
    assert all(not n.training and not any(p.requires_grad for p in n.parameters()) for n in nets)
    grouped = {id(p) for ps in task.param_groups().values() for p in ps}
    assert not any(id(p) in grouped for n in nets for p in n.parameters())
    assert [p.name for p in task.phases()] == [D, D_REG, G, G_REG]
    # R1 and path length differentiate a gradient: the trainer runs them eagerly under compile
    assert [p.name for p in task.phases() if p.double_backward] == [D_REG, G_REG]


def test_wrong_loss_kind_is_a_config_error(tiny_cfg: Callable[..., DictConfig]) -> None:
    with pytest.raises(ConfigError, match="loss=quickstart"):  # build_task unwraps Hydra's wrapper
        build_task(tiny_cfg(["loss=typeface"]))
