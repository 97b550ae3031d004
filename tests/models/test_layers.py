"""StyleGAN2 ops in plain torch: FIR resampling, equalized layers, modulated convolution."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from tsb.models.layers import (
    Blur,
    ConvLayer,
    Downsample,
    EqualConv2d,
    EqualLinear,
    ModulatedConv2d,
    ResBlock,
    StyledConv,
    ToRGB,
    Upsample,
    fused_leaky_relu,
    make_kernel,
    upfirdn2d,
)


def test_make_kernel_is_normalised_and_separable() -> None:
    k = make_kernel([1, 3, 3, 1])
    assert k.shape == (4, 4)
    assert torch.allclose(k.sum(), torch.tensor(1.0))
    assert torch.allclose(k, torch.outer(k.sum(1), k.sum(0)))


def test_upfirdn2d_matches_a_direct_reference() -> None:
    x = torch.randn(1, 2, 5, 6)
    k = torch.arange(1.0, 10.0).reshape(3, 3)  # asymmetric: catches a missing flip
    out = upfirdn2d(x, k, up=2, down=1, pad=(1, 1))
    # reference: zero insertion, pad, true convolution
    z = torch.zeros(1, 2, 10, 12)
    z[:, :, ::2, ::2] = x
    z = F.pad(z, [1, 1, 1, 1])
    ref = torch.zeros(1, 2, 10, 12)
    for i in range(10):
        for j in range(12):
            patch = z[:, :, i : i + 3, j : j + 3]
            ref[:, :, i, j] = (patch * k.flip(0, 1)).sum(dim=(2, 3))
    assert out.shape == (1, 2, 10, 12)
    assert torch.allclose(out, ref, atol=1e-5)


@pytest.mark.parametrize("taps", [[1, 3, 3, 1], [1, 2, 1], [1, 1]])
def test_upsample_equals_generic_upfirdn_and_keeps_constants(taps: list[int]) -> None:
    up = Upsample(taps)
    x = torch.randn(2, 3, 6, 10)
    out = up(x)
    assert out.shape == (2, 3, 12, 20)
    assert torch.allclose(out, upfirdn2d(x, up.kernel, up=2, pad=up.pad), atol=1e-5)
    const = up(torch.full((1, 1, 8, 8), 0.7))
    assert torch.allclose(const[:, :, 2:-2, 2:-2], torch.full_like(const[:, :, 2:-2, 2:-2], 0.7), atol=1e-6)


def test_downsample_and_blur_keep_constants_and_sizes() -> None:
    x = torch.full((1, 2, 16, 32), -0.3)
    d = Downsample()(x)
    assert d.shape == (1, 2, 8, 16)
    assert torch.allclose(d[:, :, 1:-1, 1:-1], torch.full_like(d[:, :, 1:-1, 1:-1], -0.3), atol=1e-6)
    b = Blur([1, 3, 3, 1], pad=(2, 1))(x)
    assert b.shape == x.shape


def test_equalized_layers_scale_weights_by_fan_in() -> None:
    lin = EqualLinear(16, 4, bias_init=1.0)
    x = torch.randn(3, 16)
    assert torch.allclose(lin(x), x @ (lin.weight / 4.0).t() + 1.0, atol=1e-6)
    conv = EqualConv2d(2, 3, 3, padding=1)
    y = torch.randn(1, 2, 5, 5)
    assert torch.allclose(conv(y), F.conv2d(y, conv.weight / math.sqrt(18), conv.bias, padding=1), atol=1e-6)


def test_fused_leaky_relu() -> None:
    x = torch.tensor([[-1.0, 2.0]]).reshape(1, 2, 1, 1)
    out = fused_leaky_relu(x, torch.tensor([0.5, -1.0]))
    expected = torch.tensor([-0.5 * 0.2, 1.0]) * math.sqrt(2)
    assert torch.allclose(out.flatten(), expected)


@pytest.mark.parametrize("upsample", [False, True])
@pytest.mark.parametrize("demodulate", [False, True])
def test_fused_and_unfused_modulated_conv_agree(upsample: bool, demodulate: bool) -> None:
    torch.manual_seed(0)
    a = ModulatedConv2d(6, 5, 3, style_dim=8, demodulate=demodulate, upsample=upsample, fused=False)
    b = ModulatedConv2d(6, 5, 3, style_dim=8, demodulate=demodulate, upsample=upsample, fused=True)
    b.load_state_dict(a.state_dict())
    x, w = torch.randn(3, 6, 4, 8), torch.randn(3, 8)
    bias = torch.randn(5)
    out_a, out_b = a(x, w, gain=1.7, bias=bias), b(x, w, gain=1.7, bias=bias)
    assert out_a.shape == ((3, 5, 8, 16) if upsample else (3, 5, 4, 8))
    assert torch.allclose(out_a, out_b, atol=1e-4)


def test_modulated_conv_matches_per_sample_reference() -> None:
    torch.manual_seed(0)
    m = ModulatedConv2d(4, 3, 3, style_dim=5)
    x, w = torch.randn(2, 4, 6, 6), torch.randn(2, 5)
    out = m(x, w)
    s = m.modulation(w)
    for i in range(2):
        wi = m.weight * m.scale * s[i][None, :, None, None]
        wi = wi / wi.square().sum(dim=(1, 2, 3), keepdim=True).add(1e-8).sqrt()
        assert torch.allclose(out[i : i + 1], F.conv2d(x[i : i + 1], wi, padding=1), atol=1e-5)


def test_demodulation_makes_output_invariant_to_style_scale() -> None:
    torch.manual_seed(0)
    m = ModulatedConv2d(4, 3, 3, style_dim=5)
    x = torch.randn(2, 4, 6, 6)
    s = torch.rand(2, 4) + 0.5
    m.modulation.weight.data.zero_()  # modulation = its bias, which we set per test
    m.modulation.bias.data.copy_(s[0])
    out1 = m(x, torch.zeros(2, 5))
    m.modulation.bias.data.mul_(3.0)
    out2 = m(x, torch.zeros(2, 5))
    assert torch.allclose(out1, out2, atol=1e-5)


def test_styled_conv_equals_conv_then_fused_leaky_relu() -> None:
    torch.manual_seed(0)
    layer = StyledConv(4, 6, 3, style_dim=5)
    layer.bias.data.normal_()
    x, w = torch.randn(2, 4, 5, 7), torch.randn(2, 5)
    reference = fused_leaky_relu(layer.conv(x, w), layer.bias)
    assert torch.allclose(layer(x, w), reference, atol=1e-5)


def test_to_rgb_adds_the_upsampled_skip() -> None:
    torch.manual_seed(0)
    to_rgb = ToRGB(8, style_dim=4, out_channels=4)
    x, w = torch.randn(2, 8, 8, 16), torch.randn(2, 4)
    skip = torch.randn(2, 4, 4, 8)
    assert torch.allclose(to_rgb(x, w, skip) - to_rgb(x, w), Upsample()(skip), atol=1e-5)


def test_discriminator_blocks_halve_the_size() -> None:
    assert ConvLayer(3, 5, 3, downsample=True)(torch.randn(1, 3, 16, 32)).shape == (1, 5, 8, 16)
    assert ResBlock(4, 8)(torch.randn(2, 4, 16, 48)).shape == (2, 8, 8, 24)


def test_demodulation_stays_in_float32_under_autocast() -> None:
    m = ModulatedConv2d(8, 4, 3, style_dim=6)
    x, w = torch.randn(2, 8, 5, 5), torch.randn(2, 6)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        coef = m._demod(m.weight * m.scale, m.modulation(w))
        out = m(x, w)
    assert coef.dtype == torch.float32
    assert out.dtype == torch.bfloat16  # the convolution itself runs in bf16
    assert torch.allclose(out.float(), m(x, w), atol=0.05, rtol=0.05)
