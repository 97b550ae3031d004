"""Recognition metrics: does a fixed recognizer read the intended string in an image?

- ``rec_acc``: exact-match accuracy in percent, case-sensitive (the recognizer is).
- ``rec_acc_ci``: exact-match accuracy in percent ignoring case; the MOSTEL ``eval_real.py`` default
  (its recognizer reads lower-case letters and digits), so this is the figure to compare with
  published "recognition accuracy" tables.
- ``ned``: normalised edit distance, mean over words of ``ED(pred, target) / max(len(pred),
  len(target))`` (0 when both are empty); 0 is perfect, lower is better. MOSTEL prints
  ``1 - ned`` and calls it "normalized_ED".

The Levenshtein distance comes from ``torchmetrics.functional.text.edit_distance``. torchmetrics'
``CharErrorRate`` divides the summed distances by the summed target lengths (a corpus rate), which
is a different quantity, so the per-word normalisation is done here.
"""

from __future__ import annotations

from collections.abc import Sequence

from torchmetrics.functional.text import edit_distance

RECOGNITION_METRIC_KEYS = ("rec_acc", "rec_acc_ci", "ned")


def edit_distances(preds: Sequence[str], targets: Sequence[str]) -> list[int]:
    """Levenshtein distance of each (pred, target) pair."""
    if len(preds) != len(targets):
        raise ValueError(f"got {len(preds)} predictions for {len(targets)} target strings")
    if not preds:
        return []
    return [int(d) for d in edit_distance(list(preds), list(targets), reduction="none").reshape(-1)]


def normalized_edit_distance(pred: str, target: str) -> float:
    """``ED(pred, target) / max(len(pred), len(target))``; 0.0 when both strings are empty."""
    longest = max(len(pred), len(target))
    if longest == 0:
        return 0.0
    return edit_distances([pred], [target])[0] / longest


class RecognitionMetrics:
    """Accumulates recognizer outputs against target strings."""

    def __init__(self) -> None:
        self.preds: list[str] = []
        self.targets: list[str] = []

    def update(self, preds: Sequence[str], targets: Sequence[str]) -> None:
        if len(preds) != len(targets):
            raise ValueError(f"got {len(preds)} predictions for {len(targets)} target strings")
        self.preds.extend(preds)
        self.targets.extend(targets)

    def __len__(self) -> int:
        return len(self.preds)

    def compute(self) -> dict[str, float | None]:
        n = len(self.preds)
        if n == 0:
            return {k: None for k in RECOGNITION_METRIC_KEYS}
        exact = sum(p == t for p, t in zip(self.preds, self.targets))
        exact_ci = sum(p.lower() == t.lower() for p, t in zip(self.preds, self.targets))
        dists = edit_distances(self.preds, self.targets)
        ned = [
            d / max(len(p), len(t)) if max(len(p), len(t)) else 0.0
            for d, p, t in zip(dists, self.preds, self.targets)
        ]
        return {"rec_acc": 100.0 * exact / n, "rec_acc_ci": 100.0 * exact_ci / n, "ned": sum(ned) / n}
