from __future__ import annotations

import torch

from tsb.data.content import natural_width, render_content


def test_shape_range_and_polarity() -> None:
    x = render_content("Hello")
    assert x.shape[0] == 1 and x.shape[1] == 64 and x.shape[2] % 16 == 0
    assert x.dtype == torch.float32
    assert x.min() == -1.0 and x.max() == 1.0
    # white background: the border is white, most pixels are background
    assert torch.all(x[:, :, 0] == 1.0) and torch.all(x[:, 0, :] == 1.0)
    assert (x > 0.9).float().mean() > 0.6


def test_width_follows_the_text() -> None:
    assert render_content("ab").shape[2] < render_content("abcdefghij").shape[2]
    assert render_content("abc").shape[2] == natural_width("abc")
    assert render_content("").shape == (1, 64, 16)


def test_given_width_centres_or_squeezes() -> None:
    short = render_content("hi", 64, 256)
    assert short.shape == (1, 64, 256)
    cols = (short[0] < 0).any(dim=0).nonzero().flatten()
    assert abs((cols.min() + cols.max()).item() / 2 - 128) < 4  # centred
    long = render_content("a much longer string than fits", 64, 128)
    assert long.shape == (1, 64, 128)
    ink = (long[0] < 0).any(dim=0).nonzero().flatten()
    assert ink.min() >= 4 and ink.max() <= 123  # squeezed between the margins


def test_other_heights_and_same_baseline() -> None:
    assert render_content("Word", 32).shape[1] == 32
    a, b = render_content("xxxx", 64, 128), render_content("xxxxxx", 64, 128)
    rows_a = (a[0] < 0).any(dim=1).nonzero().flatten()
    rows_b = (b[0] < 0).any(dim=1).nonzero().flatten()
    assert rows_a.max() == rows_b.max()  # same baseline


def test_deterministic() -> None:
    assert torch.equal(render_content("Repeat", 64, 256), render_content("Repeat", 64, 256))
