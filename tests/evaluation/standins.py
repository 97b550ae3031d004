"""Stand-in data modules honouring the data contract, for when tsb.data.paired is absent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image

from tsb.data.base import DataModule
from tsb.data.content import render_content
from tsb.utils.image import pil_to_tensor


def _labels(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        if line.strip():
            name, _, word = line.partition(" ")
            out[name] = word.strip()
    return out


class PairedFolder(DataModule):
    """i_s/, t_f/, i_t.txt (+ i_s.txt): all pairs, style/target resized to 64x256."""

    def __init__(self, root: str, batch_size: int = 4, seed: int = 0) -> None:
        super().__init__(batch_size=batch_size, seed=seed)
        self.root = Path(root)

    def val_dataset(self) -> list[dict[str, Any]]:
        tgt = _labels(self.root / "i_t.txt")
        src = _labels(self.root / "i_s.txt")
        items = []
        for name, word in sorted(tgt.items()):
            s = Image.open(self.root / "i_s" / name).convert("RGB").resize((256, 64))
            item: dict[str, Any] = {"style": pil_to_tensor(s), "content_tgt": render_content(word, width=256)}
            if (self.root / "t_f" / name).is_file():
                t = Image.open(self.root / "t_f" / name).convert("RGB").resize((256, 64))
                item["target"] = pil_to_tensor(t)
            item.update(text_tgt=word, name=name)
            if name in src:
                item["text_src"] = src[name]
            items.append(item)
        return items


class WordFolder(DataModule):
    """A folder of word crops with labels.tsv (file<TAB>word): style + text_src, no target."""

    def __init__(self, root: str, batch_size: int = 4, seed: int = 0) -> None:
        super().__init__(batch_size=batch_size, seed=seed)
        self.root = Path(root)

    def val_dataset(self) -> list[dict[str, Any]]:
        items = []
        for line in (self.root / "labels.tsv").read_text().splitlines():
            name, _, word = line.partition("\t")
            if not name or name == "file":
                continue
            img = Image.open(self.root / name).convert("RGB").resize((256, 64))
            items.append({"style": pil_to_tensor(img), "text_src": word.strip(), "name": name})
        return items
