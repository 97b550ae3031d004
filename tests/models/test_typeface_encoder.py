"""The typeface encoder: unit embeddings, polarity and contrast do not matter, it learns fonts apart."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from tsb.models.typeface_encoder import TypefaceEncoder


def test_embeddings_are_unit_vectors_and_logits_cosines() -> None:
    net = TypefaceEncoder(num_classes=10, dim=16, channels=(8, 8, 16, 16)).eval()
    x = torch.rand(3, 3, 64, 256) * 2 - 1
    e = net.embed(x)
    assert e.shape == (3, 16)
    assert torch.allclose(e.norm(dim=1), torch.ones(3), atol=1e-5)
    logits = net(x)
    assert logits.shape == (3, 10) and float(logits.detach().abs().max()) <= net.scale + 1e-4


def test_contrast_and_brightness_do_not_change_the_embedding() -> None:
    net = TypefaceEncoder(num_classes=4, dim=16, channels=(8, 8, 16, 16)).eval()
    x = torch.rand(2, 1, 32, 128) * 2 - 1
    with torch.no_grad():
        a, b = net.embed(x), net.embed(0.3 * x + 0.2)
    assert torch.allclose(a, b, atol=1e-4)


def test_it_learns_to_tell_three_fonts_apart() -> None:
    """Convergence on a tiny problem: 24 crops of a sans, a serif and a typewriter face are fitted
    (the library-scale generalisation is measured by the run's val/acc and the retrieval benchmark)."""
    from tsb.data.fontcrops import FontCropData

    torch.manual_seed(0)
    others = ("*-*.ttf", "*Display.ttf", "DejaVuSansMono.ttf", "STIX*", "Last*", "cm[bemrs]*", "cmti*")
    data = FontCropData(font_split="all", font_packages=("matplotlib",), font_exclude=others, words_per_font=10,
                        val_words=2, cache=False, seed=1)  # fmt: skip
    assert sorted(f.family for f in data.fonts()) == ["DejaVu Sans", "DejaVu Serif", "cmtt10"]
    train = data.train_dataset()
    label = {f.font_id: i for i, f in enumerate(data.fonts())}
    x = torch.stack([train[i]["style"] for i in range(len(train))])  # type: ignore[arg-type]
    y = torch.tensor([label[int(train[i]["font_id"])] for i in range(len(train))])  # type: ignore[arg-type]
    net = TypefaceEncoder(num_classes=3, dim=16, channels=(8, 16, 16, 32))
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        pick = torch.randint(0, len(x), (8,))  # mixed batches (batches of one font starve batch norm)
        loss = F.cross_entropy(net(x[pick]), y[pick])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    net.eval()
    with torch.no_grad():
        acc = (net(x).argmax(1) == y).float().mean()
    assert sum(losses[-5:]) < 0.2 * sum(losses[:5])
    assert acc >= 0.9  # chance is 1/3
