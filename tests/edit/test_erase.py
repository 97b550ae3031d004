"""``tsb.edit --erase``: the background branch's output pasted where its eraser cut the hole, inside
the box, nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tests.helpers.boxes import outside_mask
from tests.helpers.tiny import make_split_checkpoint
from tsb.edit import Edit, EditError, Editor, main, parse_box


@pytest.fixture(scope="module")
def split_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_split_checkpoint(tmp_path_factory.mktemp("split") / "last.ckpt")


def _photo() -> Image.Image:
    rng = np.random.default_rng(0)
    arr = np.full((60, 160, 3), (30, 120, 200), np.uint8)
    arr[20:40, 40:120] = 250  # the "word"
    arr += rng.integers(0, 5, arr.shape, dtype=np.uint8)
    return Image.fromarray(arr)


def test_erase_pastes_the_background_branch_inside_the_box_only(split_ckpt: Path) -> None:
    editor = Editor(split_ckpt, "cpu")
    assert editor.can_erase
    # a stand-in eraser whose hole is the whole crop, painted mid-grey: the box must come out grey,
    # the rest unchanged
    bg = editor.task.net.background
    bg.segment = lambda style: (torch.zeros_like(style), torch.ones_like(style[:, :1]))  # type: ignore[method-assign]
    bg.fill = lambda style, residual, mask: torch.zeros_like(style)  # type: ignore[method-assign]
    photo = _photo()
    box_arg = "30,15,100,30"
    out, infos = editor.edit(photo, [Edit(parse_box(box_arg), "", erase=True)])
    a, b = np.asarray(photo), np.asarray(out)
    outside = outside_mask(photo.size, box_arg)
    assert np.array_equal(a[outside], b[outside])
    core = b[22:38, 45:115].astype(int)  # well inside the box
    assert np.abs(core - 127).max() <= 2
    assert infos[0].text == ""


def test_only_the_erased_hole_is_pasted_the_rest_of_the_box_keeps_the_photo(split_ckpt: Path) -> None:
    """A split design says which pixels it repainted: outside its hole the box keeps the photo's
    own pixels, even where the network's crop differs (no repainted, tinted rectangle)."""
    editor = Editor(split_ckpt, "cpu")
    bg = editor.task.net.background

    def segment(style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hole = torch.zeros_like(style[:, :1])
        w = style.shape[-1]
        hole[..., w // 3 : 2 * w // 3] = 1.0  # the middle third of the crop
        return torch.zeros_like(style), hole

    bg.segment = segment  # type: ignore[method-assign]
    bg.fill = lambda style, residual, mask: torch.zeros_like(style)  # type: ignore[method-assign]  # all grey
    photo = _photo()
    out, _ = editor.edit(photo, [Edit(parse_box("30,15,100,30"), "", erase=True)])
    a, b = np.asarray(photo).astype(int), np.asarray(out).astype(int)
    assert np.abs(b[22:38, 72:88] - 127).max() <= 2  # the hole: the eraser's grey
    assert np.abs(b[16:44, 31:45] - a[16:44, 31:45]).max() <= 1  # the box's start: the photo
    assert np.abs(b[16:44, 115:129] - a[16:44, 115:129]).max() <= 1  # and its end


def test_erase_needs_a_background_branch(tiny_ckpt: Path) -> None:
    editor = Editor(tiny_ckpt, "cpu")  # the paper's network: no eraser
    assert not editor.can_erase
    with pytest.raises(EditError, match="background branch"):
        editor.edit(_photo(), [Edit(parse_box("30,15,100,30"), "", erase=True)])


def test_erase_on_the_command_line_and_in_an_edits_file(
    split_ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.png"
    _photo().save(src)
    out = tmp_path / "out.png"
    base = ["--ckpt", str(split_ckpt), "--image", str(src), "--out", str(out)]
    assert main([*base, "--box", "30,15,100,30", "--erase"]) == 0
    assert Image.open(out).size == (160, 60)
    assert main([*base, "--box", "30,15,100,30", "--erase", "--text", "x"]) == 2
    assert main([*base, "--erase"]) == 2
    err = capsys.readouterr().err
    assert err.count("--erase takes --box") == 2 and "Traceback" not in err
    edits = tmp_path / "edits.json"
    edits.write_text(json.dumps([{"box": "30,15,100,30", "erase": True}, {"box": "0,0,20,20", "text": "a"}]))
    assert main([*base, "--edits", str(edits)]) == 0


@pytest.mark.parametrize("found", [True, False])
def test_the_erased_hole_is_pasted_whole_up_to_the_boxs_edge(split_ckpt: Path, found: bool) -> None:
    """A word that touches the box's edge: where the eraser repainted it (its hole) the photo is
    replaced completely, feathered edge or not; elsewhere the edge still fades into the photo."""
    editor = Editor(split_ckpt, "cpu")
    net = editor.task.net
    net.background.segment = (
        lambda style: (  # type: ignore[method-assign]
            torch.zeros_like(style),
            torch.full_like(style[:, :1], 1.0 if found else 0.0),
        )
    )
    net.background.fill = lambda style, residual, mask: torch.zeros_like(style)  # type: ignore[method-assign]
    arr = np.full((60, 160, 3), (30, 120, 200), np.uint8)
    arr[15:45, 30:130] = 250  # the old word fills the whole box
    photo = Image.fromarray(arr)
    out, _ = editor.edit(photo, [Edit(parse_box("30,15,100,30"), "", erase=True)])
    edge = np.asarray(out)[20:40, 30:32].astype(int)  # the box's first two columns
    if found:
        assert np.abs(edge - 127).max() <= 2  # the hole: all eraser
    else:
        assert edge.min() > 160  # no hole: the feathered edge keeps most of the photo
    # the same for a new word: the generated patch covers the old word's hole at the edge too
    new, _ = editor.edit(photo, [Edit(parse_box("30,15,100,30"), "ab", source="xy")])
    edge = np.asarray(new)[20:40, 30:32].astype(int)
    assert (edge.max() < 250) if found else (edge.min() > 160)
