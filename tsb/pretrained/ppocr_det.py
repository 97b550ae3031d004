"""PP-OCRv6's text detector (DBNet, small; ships in the ``rapidocr`` wheel) as a probability map.

``TextRegions()(images) -> (B, 1, H, W)`` in [0, 1]: where the detector sees text in each
image. DBNet's map is the *shrunk* text region (a band along each word's centre line that
follows curved text; rapidocr's post-processing grows it back into boxes); this module returns
the map itself, at the input's size, for :mod:`tsb.inference.refine` to find the old word's strokes
in a photo. The network runs in ONNX Runtime on CPU; it is never trained and never sees a loss.

Pre-processing as rapidocr's: BGR, ``(x / 255 - 0.5) / 0.5`` (which is the project's [-1, 1]
range), sides multiples of 32. A crop is padded by :data:`PAD` of its height with replicated
borders first, so a word that touches the crop's edge is still seen whole.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from tsb.pretrained.packages import PPOCR_DET, PretrainedUnavailable

#: replicated border added around each image before detection, as a fraction of its height
PAD = 0.25


class TextRegions:
    """The detector's text probability of every pixel; one ONNX Runtime session (made on first use).

    Args:
        threads: intra-op threads of the session (default: torch's).
        scale: the image is resized by this factor before detection (the detector was trained on
            pages whose text is 10-100 pixels high; a 64-pixel crop needs none).
    """

    def __init__(self, threads: int | None = None, scale: float = 1.0) -> None:
        if scale <= 0:
            raise ValueError(f"TextRegions scale must be > 0, got {scale}")
        self.threads = threads
        self.scale = float(scale)
        self._session: Any = None

    def session(self) -> Any:
        if self._session is None:
            model = PPOCR_DET.path()
            try:
                import onnxruntime as ort
            except ImportError as e:
                raise PretrainedUnavailable(
                    f"the text detector needs onnxruntime ({e}); install it with `{PPOCR_DET.pip}`"
                ) from e
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = self.threads or max(1, torch.get_num_threads())
            opts.inter_op_num_threads = 1
            opts.log_severity_level = 3
            self._session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
        return self._session

    def __call__(self, images: Tensor) -> Tensor:
        """``images`` (B, 3, H, W) RGB in [-1, 1] -> text probability (B, 1, H, W) in [0, 1]."""
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"TextRegions takes (B, 3, H, W) RGB images, got {tuple(images.shape)}")
        h, w = images.shape[-2:]
        x = images.detach().float().cpu().clamp(-1, 1)[:, [2, 1, 0]]  # BGR, as rapidocr feeds it
        sh, sw = max(32, round(h * self.scale)), max(32, round(w * self.scale))
        if (sh, sw) != (h, w):
            x = F.interpolate(x, size=(sh, sw), mode="bilinear", align_corners=False, antialias=True)
        pad = math.ceil(PAD * sh)
        ph, pw = sh + 2 * pad, sw + 2 * pad
        x = F.pad(x, (pad, pad + (-pw) % 32, pad, pad + (-ph) % 32), mode="replicate")
        session = self.session()
        name = session.get_inputs()[0].name
        maps = [session.run(None, {name: np.ascontiguousarray(im[None].numpy())})[0] for im in x]
        prob = torch.from_numpy(np.concatenate(maps))[:, :1, pad : pad + sh, pad : pad + sw]
        if (sh, sw) != (h, w):
            prob = F.interpolate(prob, size=(h, w), mode="bilinear", align_corners=False, antialias=True)
        return prob.clamp(0, 1).to(images.device)
