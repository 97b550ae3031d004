"""StyleGAN2 building blocks in plain PyTorch (no custom CUDA ops, no compiled extensions).

What is here and where it comes from (Karras et al., "Analyzing and Improving the Image Quality of
StyleGAN", 2020; the layout follows rosinality/stylegan2-pytorch, rewritten):

- :func:`upfirdn2d`: upsample (zero insertion), FIR filter, downsample, done with ``F.pad`` and a
  depthwise ``F.conv2d``. :class:`Blur`, :class:`Upsample` and :class:`Downsample` wrap it
  (``Upsample`` as an equivalent strided depthwise transposed convolution, skipping the zeros).
- :class:`EqualLinear` / :class:`EqualConv2d`: equalized learning rate (weights drawn from N(0, 1)
  and scaled by 1/sqrt(fan_in) at run time).
- :class:`FusedLeakyReLU`: bias + leaky ReLU(0.2) + gain sqrt(2), in plain torch.
- :class:`ModulatedConv2d`: weight modulation by a style vector and demodulation. Two equivalent
  paths: ``fused=True`` folds the per-sample weights into one grouped convolution (``groups=B``);
  ``fused=False`` (default) scales the activations instead, runs one shared convolution and scales
  the output by the demodulation coefficients. They compute the same function (tested); the
  unfused path is faster on CPU, keeps ``channels_last`` and is what StyleGAN2-ADA uses for
  training.
- :class:`StyledConv` (modulated conv + bias + activation, no noise input; the bias and the
  sqrt(2) gain ride on the demodulation scale, one pass fewer over the activations) and :class:`ToRGB`
  (1x1 modulated conv without demodulation plus the upsampled skip of the previous scale).
- :class:`ConvLayer` / :class:`ResBlock`: the discriminator's (optionally downsampling) blocks.

Dtype policy (autocast and ``channels_last`` friendly): no forward pass names a dtype. Buffers and small
factors are cast to the dtype of the activation they meet (``.to(x.dtype)``); the modulated weight is
computed in the parameter's dtype, so the demodulation norm stays in float32 under autocast, and
the to-RGB skip sum is kept in the parameters' dtype too (so the generator's image and masks are
float32 under autocast while the convolutions run in bf16).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

DEFAULT_BLUR = (1, 3, 3, 1)


def make_kernel(k: Sequence[float]) -> Tensor:
    """Separable 1-D taps -> normalised 2-D FIR kernel (sums to 1)."""
    t = torch.tensor(list(k), dtype=torch.float32)
    if t.ndim == 1:
        t = t[None, :] * t[:, None]
    return t / t.sum()


def upfirdn2d(x: Tensor, kernel: Tensor, up: int = 1, down: int = 1, pad: tuple[int, int] = (0, 0)) -> Tensor:
    """Upsample by zero insertion, pad, filter with ``kernel`` (per channel), downsample.

    x: (B, C, H, W); kernel: (kh, kw); ``pad`` = (before, after), the same on both axes
    (negative values crop). Output size: (H * up + pad0 + pad1 - kh) // down + 1 per axis.
    """
    b, c, h, w = x.shape
    if up > 1:
        x = x.reshape(b, c, h, 1, w, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(b, c, h * up, w * up)
    pad0, pad1 = pad
    conv_pad = 0
    if pad0 == pad1 and pad0 > 0:
        conv_pad = pad0  # let the convolution pad: no padded copy of the activations
    elif pad0 != 0 or pad1 != 0:
        x = F.pad(x, [pad0, pad1, pad0, pad1])
    weight = torch.flip(kernel, [0, 1]).to(dtype=x.dtype)
    weight = weight[None, None].expand(c, 1, kernel.shape[0], kernel.shape[1])
    return F.conv2d(x, weight, stride=down, padding=conv_pad, groups=c)


class Blur(nn.Module):
    """FIR low-pass filter (``[1, 3, 3, 1]`` by default), used around strided convolutions."""

    kernel: Tensor

    def __init__(self, kernel: Sequence[float], pad: tuple[int, int], upsample_factor: int = 1) -> None:
        super().__init__()
        k = make_kernel(kernel)
        if upsample_factor > 1:
            k = k * upsample_factor**2
        self.register_buffer("kernel", k, persistent=False)
        self.pad = pad

    def forward(self, x: Tensor) -> Tensor:
        return upfirdn2d(x, self.kernel, pad=self.pad)


class Upsample(nn.Module):
    """2x upsampling with an FIR filter (the skip path of the to-RGB layers).

    Equal to ``upfirdn2d(x, kernel, up=factor, pad=self.pad)`` (tested) but computed as a strided
    depthwise transposed convolution, which skips the multiplications by inserted zeros.
    """

    kernel: Tensor

    def __init__(self, kernel: Sequence[float] = DEFAULT_BLUR, factor: int = 2) -> None:
        super().__init__()
        self.factor = factor
        k = make_kernel(kernel) * factor**2
        self.register_buffer("kernel", k, persistent=False)
        p = k.shape[0] - factor
        self.pad = ((p + 1) // 2 + factor - 1, p // 2)
        # zero insertion + pad0 + correlation with the flipped kernel == conv_transpose2d with padding
        # k - 1 - pad0, when the crop is symmetric (even-length kernels); otherwise the generic path
        self._tpad = k.shape[0] - 1 - self.pad[0]
        self._transposed = self._tpad >= 0 and self.pad[1] == self.pad[0] - factor + 1

    def forward(self, x: Tensor) -> Tensor:
        if not self._transposed:
            return upfirdn2d(x, self.kernel, up=self.factor, pad=self.pad)
        c = x.shape[1]
        weight = self.kernel.to(dtype=x.dtype)[None, None].expand(c, 1, *self.kernel.shape)
        return F.conv_transpose2d(x, weight, stride=self.factor, padding=self._tpad, groups=c)


class Downsample(nn.Module):
    """2x downsampling with an FIR filter."""

    kernel: Tensor

    def __init__(self, kernel: Sequence[float] = DEFAULT_BLUR, factor: int = 2) -> None:
        super().__init__()
        self.factor = factor
        k = make_kernel(kernel)
        self.register_buffer("kernel", k, persistent=False)
        p = k.shape[0] - factor
        self.pad = ((p + 1) // 2, p // 2)

    def forward(self, x: Tensor) -> Tensor:
        return upfirdn2d(x, self.kernel, down=self.factor, pad=self.pad)


def fused_leaky_relu(
    x: Tensor, bias: Tensor | None, negative_slope: float = 0.2, scale: float = 2**0.5
) -> Tensor:
    """``leaky_relu(x + bias) * sqrt(2)`` with the bias broadcast over channel dim 1."""
    if bias is not None:
        shape = [1, -1] + [1] * (x.ndim - 2)
        x = x + bias.to(dtype=x.dtype).reshape(shape)
    return F.leaky_relu(x, negative_slope) * scale


class FusedLeakyReLU(nn.Module):
    """Learned bias + leaky ReLU(0.2) + gain sqrt(2) (StyleGAN2's ``fused_lrelu``, plain torch)."""

    def __init__(self, channels: int, bias: bool = True, negative_slope: float = 0.2) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels)) if bias else None
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return fused_leaky_relu(x, self.bias, self.negative_slope)


class EqualLinear(nn.Module):
    """Linear layer with equalized learning rate; ``activation=True`` adds :func:`fused_leaky_relu`."""

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        bias: bool = True,
        bias_init: float = 0.0,
        lr_mul: float = 1.0,
        activation: bool = False,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim).div_(lr_mul))
        self.bias = nn.Parameter(torch.full((out_dim,), float(bias_init))) if bias else None
        self.activation = activation
        self.scale = lr_mul / math.sqrt(in_dim)
        self.lr_mul = lr_mul

    def forward(self, x: Tensor) -> Tensor:
        bias = self.bias * self.lr_mul if self.bias is not None else None
        if self.activation:
            return fused_leaky_relu(F.linear(x, self.weight * self.scale), bias)
        return F.linear(x, self.weight * self.scale, bias)

    def extra_repr(self) -> str:
        return f"{self.weight.shape[1]}, {self.weight.shape[0]}, activation={self.activation}"


class EqualConv2d(nn.Module):
    """Conv2d with equalized learning rate."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.scale = 1.0 / math.sqrt(in_channels * kernel_size**2)
        self.stride = stride
        self.padding = padding
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, stride=self.stride, padding=self.padding)

    def extra_repr(self) -> str:
        o, i, k, _ = self.weight.shape
        return f"{i}, {o}, {k}, stride={self.stride}, padding={self.padding}"


class ModulatedConv2d(nn.Module):
    """Style-modulated convolution with optional demodulation and 2x upsampling.

    ``forward(x (B, Cin, H, W), style (B, style_dim)) -> (B, Cout, H', W')``. The style goes
    through an affine layer (bias 1) giving one scale per input channel; the weight is scaled per
    sample, and (``demodulate``) normalised to unit L2 norm per output channel. Upsampling is a
    transposed convolution with stride 2 followed by a blur, as in StyleGAN2.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        style_dim: int,
        demodulate: bool = True,
        upsample: bool = False,
        blur_kernel: Sequence[float] = DEFAULT_BLUR,
        fused: bool = False,
        eps: float = 1e-8,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.upsample = upsample
        self.demodulate = demodulate
        self.fused = fused
        self.eps = eps
        self.padding = kernel_size // 2
        self.scale = 1.0 / math.sqrt(in_channels * kernel_size**2)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.modulation = EqualLinear(style_dim, in_channels, bias_init=1.0)
        if upsample:
            factor = 2
            p = (len(blur_kernel) - factor) - (kernel_size - 1)
            self.blur: nn.Module = Blur(
                blur_kernel, pad=((p + 1) // 2 + factor - 1, p // 2 + 1), upsample_factor=factor
            )
        else:
            self.blur = nn.Identity()

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, {self.kernel_size}, upsample={self.upsample}, "
            f"demodulate={self.demodulate}, fused={self.fused}"
        )

    def forward(self, x: Tensor, style: Tensor, gain: float = 1.0, bias: Tensor | None = None) -> Tensor:
        """``(conv(x, modulated weight) * demod + bias) * gain``; bias (Cout,) and gain are optional.

        Folding the bias and the activation gain into the per-channel output scale saves two passes
        over the activations (the gain commutes with a leaky ReLU, so :class:`StyledConv` can apply it
        before the activation).
        """
        s = self.modulation(style)  # (B, Cin)
        weight = self.weight * self.scale  # (Cout, Cin, k, k)
        if self.fused:
            out = self._forward_fused(x, s, weight, gain)
        else:
            # modulate the activations, shared convolution, demodulate the output (StyleGAN2-ADA)
            x = x * s.to(dtype=x.dtype)[:, :, None, None]
            if self.upsample:
                out = self.blur(F.conv_transpose2d(x, weight.transpose(0, 1), stride=2))
            else:
                out = F.conv2d(x, weight, padding=self.padding)
            if self.demodulate:
                coef = (self._demod(weight, s) * gain).to(dtype=out.dtype)[:, :, None, None]
                if bias is not None:
                    return torch.addcmul((bias * gain).to(dtype=out.dtype)[None, :, None, None], out, coef)
                return out * coef
            if gain != 1.0:
                out = out * gain
        if bias is not None:
            out = out + (bias * gain).to(dtype=out.dtype)[None, :, None, None]
        return out

    def _demod(self, weight: Tensor, s: Tensor) -> Tensor:
        """1 / ||w * s||_2 per sample and output channel, (B, Cout), without forming per-sample weights."""
        wsq = weight.square().sum(dim=(2, 3))  # (Cout, Cin)
        # elementwise product + sum rather than a matmul, which autocast would run in bf16
        ssq = s.to(dtype=wsq.dtype).square()  # (B, Cin)
        return ((ssq[:, None, :] * wsq[None]).sum(dim=2) + self.eps).rsqrt()

    def _forward_fused(self, x: Tensor, s: Tensor, weight: Tensor, gain: float) -> Tensor:
        b = x.shape[0]
        cin, cout, k = self.in_channels, self.out_channels, self.kernel_size
        w = weight[None] * s.to(dtype=weight.dtype)[:, None, :, None, None]  # (B, Cout, Cin, k, k)
        if self.demodulate:
            w = w * (w.square().sum(dim=(2, 3, 4)) + self.eps).rsqrt()[:, :, None, None, None]
        if gain != 1.0:
            w = w * gain
        h, wd = x.shape[-2:]
        x = x.reshape(1, b * cin, h, wd)
        if self.upsample:
            w = w.transpose(1, 2).reshape(b * cin, cout, k, k)
            out = F.conv_transpose2d(x, w, stride=2, groups=b)
            out = out.reshape(b, cout, out.shape[-2], out.shape[-1])
            return self.blur(out)
        out = F.conv2d(x, w.reshape(b * cout, cin, k, k), padding=self.padding, groups=b)
        return out.reshape(b, cout, out.shape[-2], out.shape[-1])


class StyledConv(nn.Module):
    """Modulated conv + bias + leaky ReLU (StyleGAN2's synthesis layer, without noise input)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        style_dim: int,
        upsample: bool = False,
        blur_kernel: Sequence[float] = DEFAULT_BLUR,
        demodulate: bool = True,
        fused: bool = False,
    ) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(
            in_channels,
            out_channels,
            kernel_size,
            style_dim,
            demodulate=demodulate,
            upsample=upsample,
            blur_kernel=blur_kernel,
            fused=fused,
        )
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.negative_slope = 0.2

    def forward(self, x: Tensor, style: Tensor) -> Tensor:
        # == fused_leaky_relu(conv(x) , bias): the sqrt(2) gain and the bias ride on the demodulation
        out = self.conv(x, style, gain=2**0.5, bias=self.bias)
        return F.leaky_relu(out, self.negative_slope, inplace=True)


class ToRGB(nn.Module):
    """1x1 modulated conv (no demodulation) to ``out_channels`` plus the upsampled skip.

    The StyleBrush generator uses ``out_channels=4``: RGB and one foreground-mask logit, both
    accumulated over scales by the skip architecture.
    """

    def __init__(
        self,
        in_channels: int,
        style_dim: int,
        out_channels: int = 3,
        upsample: bool = True,
        blur_kernel: Sequence[float] = DEFAULT_BLUR,
        fused: bool = False,
    ) -> None:
        super().__init__()
        self.upsample: nn.Module = Upsample(blur_kernel) if upsample else nn.Identity()
        self.conv = ModulatedConv2d(in_channels, out_channels, 1, style_dim, demodulate=False, fused=fused)
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x: Tensor, style: Tensor, skip: Tensor | None = None) -> Tensor:
        # the image skip accumulates in the parameters' dtype (float32 under autocast, as in
        # StyleGAN2-ADA): a 4-channel sum costs nothing and keeps bf16 rounding out of the output
        dtype = self.bias.dtype
        out = self.conv(x, style).to(dtype=dtype) + self.bias[None, :, None, None]
        if skip is not None:
            with torch.autocast(device_type=out.device.type, enabled=False):
                out = out + self.upsample(skip.to(dtype=dtype))
        return out


class ConvLayer(nn.Sequential):
    """Equalized conv (optionally blur + stride-2 downsampling) followed by a fused leaky ReLU."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        downsample: bool = False,
        blur_kernel: Sequence[float] = DEFAULT_BLUR,
        bias: bool = True,
        activate: bool = True,
    ) -> None:
        layers: list[nn.Module] = []
        if downsample:
            factor = 2
            p = (len(blur_kernel) - factor) + (kernel_size - 1)
            layers.append(Blur(blur_kernel, pad=((p + 1) // 2, p // 2)))
            stride, padding = 2, 0
        else:
            stride, padding = 1, kernel_size // 2
        layers.append(
            EqualConv2d(
                in_channels,
                out_channels,
                kernel_size,
                stride=stride,
                padding=padding,
                bias=bias and not activate,
            )
        )
        if activate:
            layers.append(FusedLeakyReLU(out_channels, bias=bias))
        super().__init__(*layers)


class ResBlock(nn.Module):
    """Residual discriminator block: two 3x3 convs (the second downsamples) + 1x1 skip, / sqrt(2)."""

    def __init__(
        self, in_channels: int, out_channels: int, blur_kernel: Sequence[float] = DEFAULT_BLUR
    ) -> None:
        super().__init__()
        self.conv1 = ConvLayer(in_channels, in_channels, 3, blur_kernel=blur_kernel)
        self.conv2 = ConvLayer(in_channels, out_channels, 3, downsample=True, blur_kernel=blur_kernel)
        self.skip = ConvLayer(
            in_channels, out_channels, 1, downsample=True, activate=False, bias=False, blur_kernel=blur_kernel
        )

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv2(self.conv1(x))
        return (out + self.skip(x)) * (1.0 / math.sqrt(2.0))
