"""Loss terms (one small module each) and :class:`LossSet`, their weighted sum built from ``cfg.loss``.

=================== =========================================== ============================
module              terms                                       phases
=================== =========================================== ============================
adversarial         NonSaturatingLoss, R1Penalty,               G + D, D_reg, G_reg
                    PathLengthPenalty
reconstruction      ReconstructionLoss (fg/bg-masked L1)        G
cycle               CycleLoss                                   G
supervised          SupervisedL1 (needs ``target``)             G
mask                MaskLoss (needs ``mask_src``/``mask_tgt``)  G
typeface            TypefacePerceptual, TypefaceTexture,        G (frozen typeface classifier)
                    TypefaceEmbedding
recognition         RecognitionLoss (CTC)                       G (frozen recognizer)
lpips_loss          LPIPSLoss (optional, needs local weights)   G
=================== =========================================== ============================
"""

from tsb.losses.base import D_REG, G_REG, PHASES, D, G, LossTerm
from tsb.losses.context import LossContext
from tsb.losses.lossset import LossSet

__all__ = ["D_REG", "G_REG", "PHASES", "D", "G", "LossContext", "LossSet", "LossTerm"]
