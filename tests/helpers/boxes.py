"""Box geometry for the editing tests."""

from __future__ import annotations

import numpy as np


def outside_mask(size: tuple[int, int], box_arg: str) -> np.ndarray:
    """True for pixels whose centre is outside the box (rotated about its centre, CCW on screen)."""
    x, y, w, h, *rest = (float(v) for v in box_arg.split(","))
    angle = np.radians(rest[0] if rest else 0.0)
    cx, cy = x + w / 2, y + h / 2
    yy, xx = np.mgrid[0 : size[1], 0 : size[0]].astype(float)
    # undo the rotation: screen CCW by `angle` is clockwise in (x, y-down) maths coordinates
    dx, dy = xx - cx, yy - cy
    u = dx * np.cos(angle) - dy * np.sin(angle)
    v = dx * np.sin(angle) + dy * np.cos(angle)
    return (np.abs(u) > w / 2) | (np.abs(v) > h / 2)
