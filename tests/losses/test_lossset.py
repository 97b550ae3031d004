"""LossSet: the weighted sum and its log, phases and intervals, built from the loss configs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch import Tensor

from tests.helpers.nets import CopyNet, TinyNet
from tsb.configs import compose_preset
from tsb.losses import D_REG, G_REG, D, G, LossContext, LossSet, LossTerm
from tsb.pretrained.helpers import HelperCheckpointError

pytestmark = pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad")


class Const(LossTerm):
    def __init__(self, value: float | None, weight: float = 1.0) -> None:
        super().__init__(weight)
        self.value = value
        self.calls = 0

    def forward(self, ctx: LossContext) -> Tensor | None:
        self.calls += 1
        return None if self.value is None else torch.tensor(self.value, requires_grad=True)


def test_weighted_sum_and_unweighted_log(batch: dict) -> None:
    zero = Const(5.0, weight=0.0)
    terms = LossSet(
        a=Const(2.0, weight=3.0), b=Const(1.0, weight=0.5), skipped=Const(None), zero=zero, gone=None
    )
    total, logs = terms.compute(G, LossContext(CopyNet(), None, batch, G))
    assert float(total) == pytest.approx(2.0 * 3.0 + 1.0 * 0.5)
    assert {k: float(v) for k, v in logs.items()} == {"a": 2.0, "b": 1.0}
    assert zero.calls == 0 and terms.names() == ["a", "b", "skipped", "zero"]


def test_nothing_applies_gives_a_backwardable_zero(batch: dict) -> None:
    total, logs = LossSet(s=Const(None)).compute(G, LossContext(CopyNet(), None, batch, G))
    total.backward()
    assert float(total) == 0.0 and logs == {}


def test_rejects_non_terms() -> None:
    from tsb.errors import ConfigError

    with pytest.raises(ConfigError, match=r"loss\.x"):
        LossSet(x=torch.nn.L1Loss())  # type: ignore[arg-type]


def load(name: str, checkpoints: Path | None = None) -> LossSet:
    root = OmegaConf.create({"paths": {"checkpoints_dir": str(checkpoints or "/nonexistent")}})
    root.loss = compose_preset("loss", name)
    loss = instantiate(root.loss)
    assert isinstance(loss, LossSet)
    return loss


@pytest.mark.parametrize("name", ["quickstart", "recon"])
def test_pixel_configs_need_no_helper_and_no_discriminator(name: str) -> None:
    loss = load(name)
    assert loss.phase_intervals() == {G: 1}
    assert "reconstruction" in loss.names() and "mask" in loss.names()
    if name == "quickstart":  # listed, off: one override turns each on
        assert {n: loss[n].weight for n in ("cycle", "adversarial", "r1")} == {
            "cycle": 0,
            "adversarial": 0,
            "r1": 0,
        }


@pytest.mark.parametrize("name", ["paper", "perceptual+cycle"])
def test_helper_configs_build_from_packaged_networks_without_checkpoints(name: str) -> None:
    loss = load(name)  # checkpoints_dir does not exist: nothing to train first
    from tsb.pretrained.vgg import ImageNetVGG16

    assert isinstance(loss["perceptual"].classifier.net, ImageNetVGG16)
    if name == "paper":
        from tsb.pretrained.easyocr import EasyOCRRecognizer

        assert isinstance(loss["recognition"].recognizer.net, EasyOCRRecognizer)


def test_typeface_checkpoint_option_still_stops_with_the_command() -> None:
    root = OmegaConf.create({"paths": {"checkpoints_dir": "/nonexistent"}})
    root.loss = compose_preset("loss", "perceptual+cycle")
    root.loss.perceptual.network = "${paths.checkpoints_dir}/typeface.ckpt"
    with pytest.raises(InstantiationException) as e:
        instantiate(root.loss)
    assert isinstance(e.value.__cause__, HelperCheckpointError)
    assert "python train.py experiment=typeface" in str(e.value.__cause__)


def test_paper_config_with_helpers(tmp_path: Path, tiny_net: TinyNet, tiny_d: torch.nn.Module) -> None:
    loss = load("paper", tmp_path)
    weights = {n: loss[n].weight for n in loss.names()}
    assert weights["texture"] == 500.0 and weights["reconstruction"] == 10.0 and weights["perceptual"] == 1.0
    assert loss.phase_intervals() == {D: 1, D_REG: 16, G: 1, G_REG: 4}
    from tests.helpers.nets import make_batch

    batch = make_batch(texts=("abc", "dog"))
    total, logs = loss.compute(G, LossContext(tiny_net, tiny_d, batch, G))
    assert torch.isfinite(total)
    assert set(logs) >= {
        "adversarial",
        "perceptual",
        "texture",
        "embedding",
        "recognition",
        "reconstruction",
        "cycle",
    }


class GradOfGrad(Const):
    double_backward = True


def test_a_phase_needs_double_backward_only_through_an_active_term_that_declares_it() -> None:
    terms = LossSet(plain=Const(1.0), second=GradOfGrad(1.0))
    assert terms.double_backward(G)
    assert not LossSet(plain=Const(1.0), second=GradOfGrad(1.0, weight=0.0)).double_backward(G)
    assert not terms.double_backward(D)
