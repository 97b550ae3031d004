"""PP-OCRv6 (small) through ``rapidocr`` and ONNX Runtime: the independent judge of evaluate.py.

The recognizer ships in the ``rapidocr`` wheel (``rapidocr/models/PP-OCRv6_rec_small.onnx``, Apache-2.0,
trained by PaddleOCR); its character set (Chinese, Latin, digits, punctuation; case-sensitive) is
read from the ONNX metadata. It is never a training loss: a frozen differentiable recognizer can be
fooled by a generator, and a judge that is not in the loop cannot (docs/evaluation.md).

Each word image is read alone (detection and the orientation classifier are off): images in
[-1, 1], (B, 3, H, W), become 8-bit BGR arrays as OpenCV reads files, and every reading is kept,
whatever its confidence (``text_score`` 0), so an unreadable word counts as a wrong one.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from torch import Tensor

from tsb.pretrained.packages import PPOCR_REC, PretrainedUnavailable


class PPOCRReader:
    """``read(images) -> list[str]``; one ONNX Runtime session, ``threads`` intra-op threads."""

    def __init__(self, threads: int | None = None) -> None:
        model = PPOCR_REC.path()
        try:
            from rapidocr import RapidOCR
        except ImportError as e:
            raise PretrainedUnavailable(
                f"the judge needs rapidocr and onnxruntime ({e}); install them with `{PPOCR_REC.pip}`"
            ) from e
        n = threads if threads is not None else max(1, torch.get_num_threads())
        self.engine = RapidOCR(
            params={
                "Global.log_level": "error",
                "Global.text_score": 0.0,
                "Global.use_det": False,
                "Global.use_cls": False,
                "Rec.model_path": str(model),
                "EngineConfig.onnxruntime.intra_op_num_threads": n,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
        )
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)

    @staticmethod
    def to_bgr(image: Tensor) -> np.ndarray:
        """(3 or 1, H, W) in [-1, 1] -> (H, W, 3) uint8 BGR."""
        x = ((image.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()
        if x.shape[0] == 1:
            x = x.expand(3, -1, -1)
        return np.ascontiguousarray(x.permute(1, 2, 0).numpy()[:, :, ::-1])

    def read_one(self, image: Tensor) -> str:
        out = self.engine(self.to_bgr(image), use_det=False, use_cls=False, use_rec=True)
        txts = getattr(out, "txts", None) or ()
        return "".join(str(t) for t in txts)

    def read(self, images: Tensor) -> list[str]:
        if images.dim() != 4:
            raise ValueError(f"the judge reads batches (B, 3, H, W), got {tuple(images.shape)}")
        return [self.read_one(im) for im in images]
