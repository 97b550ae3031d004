"""The inference pipeline: a trained network plus named, individually switchable photo steps.

The networks under :mod:`tsb.models` return their branches the same way in training and in
evaluation (normalisation aside). Everything hand-made that helps on photos lives here, outside
the networks, and is chosen by the config group ``conf/inference`` (``none``: the network as it
is; ``photo``: the steps the published weights were measured with), which ``evaluate.py``,
``tsb.edit``, the demo and the benchmarks share:

==================  ==========================================================================
step                what it does (split design only: networks with a background branch)
==================  ==========================================================================
``refine``          corrects the eraser's mask of the old word before the hole is cut
                    (:class:`~tsb.inference.refine.TextRegionRefiner`: PP-OCRv6's detector +
                    colour), so the background, the layout and the text branch all see it
``extrusion``       the old word's 3-D sides fitted on the photo and drawn under the new word
                    (:class:`~tsb.inference.extrusion.SourceExtrusion`)
``source_colours``  the new word's colour layer taken from the old word's own pixels
                    (:class:`~tsb.inference.palette.SourceColours`)
``ink_colours``     the new word's colour layer from the old word's full-contrast ink (after
                    ``source_colours``, over it; :class:`~tsb.inference.ink_colour.InkColours`):
                    white lettering stays white, not the grey of its anti-aliased edges
``ink_height``      the old word's own rows of ink measured (:class:`~tsb.inference.ink_height.InkHeight`;
                    needs the old word's text): its mask kept to them before the hole is cut and
                    the layout runs (``keep_word``: the lines above and below are left alone), and
                    with ``refit`` the new word's rows moved onto them
``slant``           the new word leaned as the old word's letters lean against its text drawn
                    plain (:class:`~tsb.inference.slant.Slant`; needs the old word's text): an
                    italic stays italic
``keep_in_box``     the new word squeezed along its line (and moved) to lie within the part of the
                    crop that may change, when the caller gives it (``bounds``: a photo editor's
                    box inside its context crop), so that no letter is cut off where the paste
                    stops
``sharp_mask``      the placed ink as the mask (sharp letters in the content font's shapes)
                    instead of the text branch's corrected mask
``effect_ring``     with ``sharp_mask``: the dropped correction still draws within this many
                    pixels around the letters (an outline, a shadow), in the learned colour
``fit_ring``        with ``effect_ring``: only the share of the ring that gives the new letters
                    the old word's stroke width, both measured on the crop
                    (:func:`~tsb.inference.ring_weight.ring_strength`): small print is not
                    made bolder by the blur of its upsampled crop
==================  ==========================================================================

The steps edit the branches (mask, colour layer, what lies under the letters) and the image is
composed once at the end, ``image = mask * foreground + (1 - mask) * under``, exactly as the
network composes it. Each step owns no weight, so any trained weights take it or leave it.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from torch import Tensor

from tsb.errors import ConfigError
from tsb.inference.extrusion import SourceExtrusion
from tsb.inference.ink_colour import InkColours
from tsb.inference.ink_height import InkHeight, ink_in_mask
from tsb.inference.palette import SourceColours
from tsb.inference.refine import TextRegionRefiner
from tsb.inference.ring_weight import ring_strength
from tsb.inference.slant import Slant
from tsb.models.generator import GeneratorOutput
from tsb.models.layout import squeeze_inside, true_extent, warp
from tsb.models.stylebrush import broadcast_style
from tsb.utils.image import grow_mask

#: the presets of ``conf/inference`` (the repository's config tree)
PRESETS = Path(__file__).resolve().parents[2] / "conf" / "inference"


class Pipeline:
    """``generate(net, style, content, source) -> GeneratorOutput`` and ``erase(net, style)``.

    Args:
        refine: the old word's mask corrector, or None.
        extrusion: the 3-D sides step, or None.
        source_colours: the source palette step, or None.
        sharp_mask: use the placed ink as the mask (networks with a mask correction).
        effect_ring: pixels around the sharp letters where the correction still draws (0: off).
        fit_ring: draw only the share of the ring that matches the old word's stroke width.
        ink_height: the letter height and baseline step, or None.
        ink_colours: the full-contrast ink colours step, or None.
        keep_in_box: squeeze the new word into the ``bounds`` given to :meth:`generate`.
        slant: the lean step, or None.
    """

    def __init__(
        self,
        refine: TextRegionRefiner | None = None,
        extrusion: SourceExtrusion | None = None,
        source_colours: SourceColours | None = None,
        sharp_mask: bool = False,
        effect_ring: int = 0,
        ink_height: InkHeight | None = None,
        ink_colours: InkColours | None = None,
        keep_in_box: bool = False,
        fit_ring: bool = False,
        slant: Slant | None = None,
    ) -> None:
        if effect_ring < 0:
            raise ConfigError(f"inference.effect_ring must be >= 0 pixels, got {effect_ring}")
        if effect_ring > 0 and not sharp_mask:
            raise ConfigError(
                "inference.effect_ring draws what the sharp mask drops: set inference.sharp_mask=true "
                "or inference.effect_ring=0"
            )
        if fit_ring and effect_ring == 0:
            raise ConfigError(
                "inference.fit_ring fits the effect ring: set inference.effect_ring > 0 or inference.fit_ring=false"
            )
        self.refine = refine
        self.extrusion = extrusion
        self.source_colours = source_colours
        self.sharp_mask = bool(sharp_mask)
        self.effect_ring = int(effect_ring)
        self.ink_height = ink_height
        self.ink_colours = ink_colours
        self.keep_in_box = bool(keep_in_box)
        self.fit_ring = bool(fit_ring)
        self.slant = slant

    @property
    def steps(self) -> list[str]:
        """The names of the steps that are on (for reports)."""
        return [name for name, off in self.OFF.items() if getattr(self, name) != off]

    #: each step's value when it is off
    OFF: ClassVar[dict[str, Any]] = {
        "refine": None,
        "extrusion": None,
        "source_colours": None,
        "sharp_mask": False,
        "effect_ring": 0,
        "ink_height": None,
        "ink_colours": None,
        "keep_in_box": False,
        "fit_ring": False,
        "slant": None,
    }

    def without(self, *names: str) -> Pipeline:
        """A copy of this pipeline with the named steps off (``effect_ring`` goes with ``sharp_mask``,
        ``fit_ring`` with ``effect_ring``)."""
        unknown = [n for n in names if n not in self.OFF]
        if unknown:
            raise ConfigError(f"no inference step {unknown}; the steps are {list(self.OFF)}")
        out = copy.copy(self)
        for name in names:
            setattr(out, name, self.OFF[name])
        if not out.sharp_mask:
            out.effect_ring = 0
        if not out.effect_ring:
            out.fit_ring = False
        return out

    @staticmethod
    def split_net(model: Any) -> Any | None:
        """The split network of ``model`` (a task with ``net``, or a network), or None: the photo
        steps need its branches (a background branch with ``segment`` and ``fill``)."""
        net = getattr(model, "net", model)
        return net if callable(getattr(getattr(net, "background", None), "segment", None)) else None

    def _erased(self, net: Any, style: Tensor) -> tuple[Tensor, Tensor]:
        """The eraser's background and (refined) old-word mask, in the style crop's frame."""
        residual, source_mask = net.background.segment(style)
        if self.refine is not None:
            source_mask = self.refine(style, source_mask)
        return net.background.fill(style, residual, source_mask), source_mask

    @torch.no_grad()
    def erase(self, model: Any, style: Tensor) -> tuple[Tensor, Tensor]:
        """The style crop with its word removed (B, 3, H, W) and the hole repainted (B, 1, H, W);
        ``model``: a task or a network with a background branch."""
        net = self.split_net(model)
        if net is None:
            raise ConfigError(
                f"erasing needs a network with a background branch (model=stylebrush_bg); got {type(model).__name__}"
            )
        background, source_mask = self._erased(net, net.encode_style(style))
        return background, net.background.hole(source_mask)

    @torch.no_grad()
    def generate(
        self,
        model: Any,
        style: Tensor,
        content: Tensor,
        source: Tensor | None = None,
        bounds: Tensor | None = None,
    ) -> GeneratorOutput:
        """``content`` (B, 1, 64, W) in the style of ``style``, with the steps that are on; ``model``:
        a task (its ``net``) or a network. One without a background branch (the paper's generator,
        the baseline) runs as it is (``model.generate``, or its forward). ``bounds`` (B, 2) or (2,):
        the left and right edges, in [-1, 1] of the crop's width, of the part of the crop that the
        caller will paste (``keep_in_box`` keeps the new word within them); None: all of it."""
        net = self.split_net(model)
        if net is None:
            run = getattr(model, "generate", model)
            return run(style, content, source)  # type: ignore[no-any-return]
        style = net.encode_style(style).to(dtype=content.dtype)
        batch, size = content.shape[0], content.shape[-2:]

        def fit(x: Tensor) -> Tensor:
            if x.shape[-2:] != size:
                x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
            return broadcast_style(x, batch)

        fits = None
        # the old word's mask: all of it is erased (``hole_mask``); the part within ``bounds`` is
        # the old word the new one is placed, sized and coloured by (``source_mask``)
        box_only = self.keep_in_box and bounds is not None
        if self.ink_height is not None and source is not None:
            residual, hole_mask = net.background.segment(style)
            if self.refine is not None:
                hole_mask = self.refine(style, hole_mask)
            source_mask = within(hole_mask, bounds) if box_only else hole_mask
            # the old word's rows of ink, measured on the crop against a first erasing
            rough = net.background.fill(style, residual, hole_mask)
            fits = self.ink_height.measure(source_mask, (1 - source.to(style.dtype)) / 2, style, rough)
            if self.ink_height.keep_word_parts:
                hole_mask = self.ink_height.keep_word(hole_mask, fits)
                source_mask = self.ink_height.keep_word(source_mask, fits)
            background = net.background.fill(style, residual, hole_mask)
        else:
            background, hole_mask = self._erased(net, style)
            source_mask = within(hole_mask, bounds) if box_only else hole_mask
        out: GeneratorOutput = net.synthesize(style, content, source, erased=(background, source_mask))
        assert out.foreground is not None and out.background is not None and out.layout is not None
        mask, foreground, learned, under, effect = out.mask, out.foreground, out.foreground, out.background, None
        layout = out.layout
        if self.ink_height is not None and fits is not None and self.ink_height.refit:
            # the new word's rows from the old word's own rows of ink, not the spread of its mask
            (layout, mask), (learned,) = self.ink_height(
                fits, (1 - content) / 2, layout, mask, colours=(learned,)
            )
            foreground = learned
        if self.slant is not None and source is not None:
            # the old word's lean, measured on its letters against its text drawn plain
            old_ink = ink_in_mask(style, background, source_mask > 0.5).to(style.dtype)
            lean = self.slant.measure(old_ink, (1 - source.float()) / 2)
            moved = learned is foreground
            frame = (int(old_ink.shape[-2]), int(old_ink.shape[-1]))
            layout, mask, learned = self.slant(lean, frame, layout, mask, learned)
            foreground = learned if moved else foreground
        if box_only:
            # the new letters within the old word's span in the part of the crop that is pasted:
            # none cut off at its edge, the space before the next word kept
            span = ink_span(fit(source_mask), bounds)
            theta = squeeze_inside(torch.eye(2, 3, device=layout.device).expand(batch, 2, 3), layout, bounds=span)
            moved = learned is foreground
            layout, mask = warp(layout, theta), warp(mask, theta)
            learned = _warp_colours(learned, theta)
            foreground = learned if moved else foreground

        hole = net.background.hole(hole_mask)  # what the eraser repainted: tsb.edit pastes it whole
        faces = sides = None
        if self.extrusion is not None:
            ext = self.extrusion(style, background, source_mask, hole)
            if bool(ext.found.any()):
                faces = ext.faces
                # the sweep in the content's frame (the crop is stretched to it), its colours
                scale = torch.tensor([size[1] / style.shape[-1], size[0] / style.shape[-2]])
                offset = broadcast_style(ext.offset, batch) * scale.to(ext.offset)
                sides = (offset, broadcast_style(ext.found, batch), fit(ext.colour))
        if self.source_colours is not None:
            palette, found = self.source_colours(
                style, source_mask if faces is None else source_mask * faces, background
            )
            foreground = fit(palette).where(broadcast_style(found, batch), foreground)
        if self.ink_colours is not None:
            palette, found = self.ink_colours(style, background, source_mask if faces is None else source_mask * faces)
            foreground = fit(palette).where(broadcast_style(found, batch), foreground)
        out_mask = mask  # the network's mask (moved with the letters)
        sharp = self.sharp_mask and bool(getattr(net, "mask_residual", False))
        if sharp:
            mask = torch.sigmoid(net.ink_gain * (layout * 2 - 1))
        if sides is not None:
            # the old word's sides, swept from the new letters, between the background and them
            offset, has_sides, colour = sides
            effect = SourceExtrusion.draw(mask, offset, has_sides)
            under = effect * colour + (1 - effect) * under
        if sharp and self.effect_ring > 0:
            # the correction's outline / shadow around the sharp letters, in its learned colour,
            # between the letters and the background (and in the mask, so that tsb.edit pastes it)
            ink = layout
            ring = (grow_mask(ink, self.effect_ring) - ink).clamp(0, 1) * out_mask
            if self.fit_ring:
                ringed = ring * learned + (1 - ring) * under
                share = ring_strength(
                    style,
                    background,
                    source_mask,
                    mask * foreground + (1 - mask) * under,
                    mask * foreground + (1 - mask) * ringed,
                    torch.maximum(mask, ring),
                )
                ring = ring * share.to(ring)
            under = ring * learned + (1 - ring) * under
            effect = ring if effect is None else torch.maximum(effect, ring)
        image = mask * foreground + (1 - mask) * under
        if effect is not None:
            mask = mask + (1 - mask) * effect
        return replace(
            out, image=image, mask=mask, masks=[mask], foreground=foreground, hole=fit(hole), layout=layout
        )


def within(mask: Tensor, bounds: Tensor | None) -> Tensor:
    """``mask`` (B, 1, H, W) zero outside the columns between ``bounds`` (B, 2) or (2,): left and
    right edges in [-1, 1] of its width (pixel centres inside count); None: ``mask``."""
    if bounds is None:
        return mask
    w = mask.shape[-1]
    x = (torch.arange(w, device=mask.device, dtype=torch.float32) + 0.5) / w * 2 - 1
    edges = bounds.to(device=mask.device, dtype=torch.float32).reshape(-1, 2)
    keep = (x >= edges[:, :1]) & (x <= edges[:, 1:])  # (B or 1, W)
    return mask * keep[:, None, None, :].to(mask.dtype)


def ink_span(mask: Tensor, bounds: Tensor | None) -> Tensor:
    """(B, 2): the left and right edges, in [-1, 1] of the width, of the columns where ``mask``
    (B, 1, H, W) is confident (> 0.5) within ``bounds`` ((B, 2) or (2,); None: the whole width);
    ``bounds`` itself where it holds no such column."""
    b = mask.shape[0]
    edges = (
        torch.tensor([-1.0, 1.0], device=mask.device) if bounds is None else bounds.to(mask.device).float()
    ).reshape(-1, 2).expand(b, 2)
    cols = within(mask, edges).detach().float().amax(dim=(1, 2)) > 0.5  # (B, W)
    found = cols.any(dim=1)
    ends = true_extent(cols)
    lo = torch.where(found, ends[:, 0], edges[:, 0]).maximum(edges[:, 0])
    hi = torch.where(found, ends[:, 1], edges[:, 1]).minimum(edges[:, 1])
    return torch.stack([lo, hi], -1)


def _warp_colours(colours: Tensor, theta: Tensor) -> Tensor:
    """A colour layer resampled by ``theta`` (B, 2, 3), its edge colours carried past the edges."""
    grid = F.affine_grid(theta.float(), list(colours.shape), align_corners=False)
    out = F.grid_sample(colours.float(), grid, mode="bilinear", padding_mode="border", align_corners=False)
    return out.to(colours.dtype)


def _load_preset(path: Path) -> DictConfig:
    """A preset file, on top of the presets its ``defaults`` list names (``- photo``, ``- _self_``)."""
    cfg = OmegaConf.load(path)
    assert isinstance(cfg, DictConfig)
    bases = [str(b) for b in cfg.pop("defaults", []) if str(b) != "_self_"]
    merged = OmegaConf.merge(*(_load_preset(path.parent / f"{b}.yaml") for b in bases), cfg) if bases else cfg
    assert isinstance(merged, DictConfig)
    return merged


def build_pipeline(
    spec: str | DictConfig | dict[str, Any] | Pipeline | None, overrides: Sequence[str] = ()
) -> Pipeline:
    """A :class:`Pipeline` from a preset name of ``conf/inference`` (``none``, ``photo``), a config
    with ``_target_``, or a pipeline; None: ``none``. ``overrides``: ``KEY=VALUE`` changes of the
    preset (``extrusion=null``, ``effect_ring=0``, ``refine.unclip=0``)."""
    if isinstance(spec, Pipeline):
        if overrides:
            raise ConfigError("inference overrides go with a preset's name or config, not a built pipeline")
        return spec
    if spec is None:
        spec = "none"
    if spec == "auto":
        raise ConfigError(
            "inference=auto means the weights' own preset: resolve it first (tsb.published.default_inference)"
        )
    if isinstance(spec, str):
        path = PRESETS / f"{spec}.yaml"
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in PRESETS.glob("*.yaml"))) or "none found"
            raise ConfigError(f"no inference preset {spec!r} in {PRESETS} (known: {known}); pass one of them")
        spec = _load_preset(path)  # type: ignore[assignment]
    cfg: Any = OmegaConf.create(spec) if isinstance(spec, dict) else spec
    if overrides:
        bad = [o for o in overrides if "=" not in o]
        if bad:
            raise ConfigError(f"inference overrides are KEY=VALUE (e.g. extrusion=null); got {bad}")
        cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(list(overrides)))
    try:
        built = instantiate(cfg, _convert_="object")
    except Exception as e:  # an unknown step or setting: name it, no traceback
        raise ConfigError(f"the inference config does not build: {e}") from e
    if not isinstance(built, Pipeline):
        raise ConfigError(f"the inference config must build a tsb.inference.pipeline.Pipeline, got {type(built).__name__}")
    return built
