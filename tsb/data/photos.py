"""Photos that installed packages carry, for the synthetic data's photo backgrounds.

``data.effects.photo_bank`` picks the set the renderer crops backgrounds from when
``data.effects.photo_dirs`` is empty:

- ``matplotlib``: the two sample images matplotlib ships (the original default, kept so that
  existing data configs render the same samples);
- ``packages``: the photos and textures of :data:`PACKAGED` (scikit-image's sample data, each with
  its licence; docs/data.md lists them). None of them is a photo of the real-photo benchmark
  (``tsb.photobench``): :data:`EXCLUDED` names those, and a test checks that the two never meet.

Only files are read (no ``import skimage``: its import costs seconds and its loaders may fetch).
A file missing from an older or newer wheel is skipped.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from tsb.errors import ConfigError


@dataclass(frozen=True)
class PackagedPhoto:
    """One photo a package ships: its package, its path in the package, what it shows, its licence."""

    package: str
    path: str
    what: str
    licence: str

    def locate(self) -> Path | None:
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            return None
        file = Path(next(iter(spec.submodule_search_locations))) / self.path
        return file if file.is_file() else None


#: the ``packages`` photo bank: scikit-image's sample photos and textures (the wheel is BSD-3-Clause;
#: each image's own licence, as its ``skimage.data`` docstring states)
PACKAGED: tuple[PackagedPhoto, ...] = (
    PackagedPhoto("skimage", "data/astronaut.png", "astronaut Eileen Collins (NASA)", "public domain"),
    PackagedPhoto("skimage", "data/chelsea.png", "Chelsea the cat (Stefan van der Walt)", "CC0"),
    PackagedPhoto("skimage", "data/coffee.png", "coffee cup on wood (Rachel Michetti)", "CC0"),
    PackagedPhoto("skimage", "data/rocket.jpg", "DSCOVR launch on Falcon 9 (SpaceX)", "public domain"),
    PackagedPhoto("skimage", "data/camera.png", "man with a camera, grey (Lav Varshney)", "CC0"),
    PackagedPhoto("skimage", "data/brick.png", "brick wall, grey (CC0Textures)", "CC0"),
    PackagedPhoto("skimage", "data/grass.png", "grass, grey (linolafett, DeviantArt)", "CC0"),
    PackagedPhoto("skimage", "data/gravel.png", "gravel, grey (CC0Textures)", "CC0"),
    PackagedPhoto(
        "skimage",
        "data/clock_motion.png",
        "motion-blurred wall clock, grey (Stefan van der Walt)",
        "public domain",
    ),
    PackagedPhoto(
        "skimage", "data/coins.png", "Greek coins, grey (Brooklyn Museum)", "no known copyright restrictions"
    ),
    PackagedPhoto(
        "skimage", "data/ihc.png", "immunohistochemistry stain (CMMI)", "no known copyright restrictions"
    ),
    PackagedPhoto(
        "skimage", "data/hubble_deep_field.jpg", "Hubble eXtreme Deep Field (NASA)", "public domain"
    ),
)

#: package files that must never be a training background: the photos of the real-photo benchmark
#: (tsb.photobench.photoset) and the sample images of the OCR and vision packages
EXCLUDED: tuple[tuple[str, str], ...] = (
    ("skimage", "data/page.png"),
    ("skimage", "data/text.png"),
    ("skimage", "data/motorcycle_left.png"),
    ("skimage", "data/motorcycle_right.png"),
    ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"),
)

#: the photo banks of ``data.effects.photo_bank``
PHOTO_BANKS = ("matplotlib", "packages")


def matplotlib_samples() -> list[Path]:
    """The original default bank: matplotlib's two sample images (read by the data configs that
    name no ``photo_bank``; ``packages`` leaves grace_hopper.jpg out, a photo of the benchmark)."""
    import matplotlib

    sample = Path(matplotlib.get_data_path()) / "sample_data"
    return [sample / "grace_hopper.jpg", sample / "Minduka_Present_Blue_Pack.png"]


def packaged_photos() -> list[Path]:
    """The files of :data:`PACKAGED` that the installed packages carry, in that order."""
    return [p for p in (photo.locate() for photo in PACKAGED) if p is not None]


def bank_paths(bank: str) -> list[Path]:
    """The files of a named photo bank (:data:`PHOTO_BANKS`)."""
    if bank == "matplotlib":
        return matplotlib_samples()
    if bank == "packages":
        return packaged_photos()
    raise ConfigError(f"unknown data.effects.photo_bank {bank!r}; one of {PHOTO_BANKS}")
