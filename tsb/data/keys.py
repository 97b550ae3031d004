"""The one vocabulary of batch keys, shared by synthetic and real data, tasks and metrics.

Every data set returns a plain ``dict``; keys that a source cannot provide are absent
(never filled with dummies). Images are float32 tensors in [-1, 1]; masks float32 in [0, 1].
Batched by ``torch.utils.data.default_collate`` (strings become lists of strings).

========== ================ ==================================================================
key        shape / type     meaning
========== ================ ==================================================================
style      (3, H, W)        the style example: string A in style S (source image, RGB)
target     (3, H, W)        ground truth: string B in style S (synthetic / paired data only)
background (3, H, W)        the clean background of style and target, no text (synthetic data;
                            paired folders with t_b/, SRNet's name)
content_src (1, H, W)       string A rendered plain (standard font, black on white, grey)
content_tgt (1, H, W)       string B rendered plain
mask_src   (1, H, W)        foreground (text) mask of ``style``
mask_tgt   (1, H, W)        foreground mask of ``target``
text_src   str              string A
text_tgt   str              string B
font_id    int64 scalar     index of the font in the data set's font list (typeface labels)
name       str              file name or sample id, for writing outputs
========== ================ ==================================================================
"""

from __future__ import annotations

STYLE = "style"
TARGET = "target"
BACKGROUND = "background"
CONTENT_SRC = "content_src"
CONTENT_TGT = "content_tgt"
MASK_SRC = "mask_src"
MASK_TGT = "mask_tgt"
TEXT_SRC = "text_src"
TEXT_TGT = "text_tgt"
FONT_ID = "font_id"
NAME = "name"

IMAGE_KEYS = (STYLE, TARGET, BACKGROUND)
GREY_KEYS = (CONTENT_SRC, CONTENT_TGT)
MASK_KEYS = (MASK_SRC, MASK_TGT)
