"""What the benchmark edits: the photos of a folder, edits files, the replacement words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tsb.errors import BenchError
from tsb.photobench.edits import EVERY_WORD, Request, list_photos, load_requests, replacement


def _folder(tmp_path: Path) -> list[Path]:
    for name in ("b_10.png", "b_2.jpg", "a.webp", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.png").write_bytes(b"x")
    return list_photos(tmp_path)


def test_photos_are_listed_in_natural_order_without_other_files(tmp_path: Path) -> None:
    assert [p.name for p in _folder(tmp_path)] == ["a.webp", "b_2.jpg", "b_10.png"]


def test_a_missing_or_empty_folder_is_one_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(BenchError, match=r"nowhere does not exist; give a folder of photos") as e:
        list_photos(tmp_path / "nowhere")
    assert e.value.exit_code == 2
    (tmp_path / "empty").mkdir()
    with pytest.raises(BenchError, match=r"empty holds no photo .*put the photos to edit in it"):
        list_photos(tmp_path / "empty")


def test_tsv_and_json_lines_edits_files(tmp_path: Path) -> None:
    photos = _folder(tmp_path)
    tsv = tmp_path / "edits.tsv"
    tsv.write_text("# photo\told\tnew\n\na.webp\tOPEN\tSHUT\nb_2.jpg\t*\n", encoding="utf-8")
    assert load_requests(tsv, photos) == [
        Request("a.webp", "OPEN", "SHUT", 3),
        Request("b_2.jpg", EVERY_WORD, "", 4),
    ]
    jsonl = tmp_path / "edits.jsonl"
    jsonl.write_text(
        json.dumps({"photo": "b_10.png", "old": "Street", "new": "Road"}) + "\n", encoding="utf-8"
    )
    assert load_requests(jsonl, photos) == [Request("b_10.png", "Street", "Road", 1)]
    listed = tmp_path / "edits.json"
    listed.write_text(json.dumps([{"photo": "a.webp", "old": "a", "new": "b"}]), encoding="utf-8")
    assert load_requests(listed, photos)[0].new == "b"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a.webp\tOPEN\n", r"line 1 has 2 tab-separated fields; write photo<TAB>old<TAB>new"),
        ("gone.png\tOPEN\tSHUT\n", r"line 1: no photo 'gone.png' in the folder"),
        ("a.webp\tOPEN\topen\n", r"the new word 'open' is the old one"),
        ("a.webp\t*\tSHUT\n", r"'\*' \(every word\) takes no new word"),
        ("# nothing\n", r"holds no edit"),
        (
            '{"photo": "a.webp", "old": 3}\n',
            r'line 1: write \{"photo": \.\.\., "old": \.\.\., "new": \.\.\.\}',
        ),
        ('{"photo": "a.webp", \n', r"line 1 is not a JSON object"),
    ],
)
def test_a_bad_edits_file_is_one_error_naming_the_line_and_the_fix(
    tmp_path: Path, content: str, message: str
) -> None:
    photos = _folder(tmp_path)
    bad = tmp_path / "edits.tsv"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(BenchError, match=message) as e:
        load_requests(bad, photos)
    assert e.value.exit_code == 2 and "\n" not in str(e.value)
    with pytest.raises(BenchError, match=r"missing\.tsv does not exist"):
        load_requests(tmp_path / "missing.tsv", photos)


def test_replacement_words_are_seeded_similar_in_length_cased_and_never_the_old_word() -> None:
    assert replacement("Market", "p/0") == replacement("Market", "p/0")
    for old in ("OPEN", "Street", "daily", "UNIVERSITY", "a", "infection:", "(SALE)"):
        picks = {replacement(old, f"photo/{i}") for i in range(12)}
        for new in picks:
            assert new is not None and new.casefold() != old.casefold()
            core = old.strip("():")
            body = new.strip("():")
            assert abs(len(body) - len(core)) <= 1 or len(core) == 1
            assert new.startswith(old[: len(old) - len(old.lstrip("("))]) and new.endswith(
                old[len(old.rstrip(":)")) :]
            )
            if core.isupper() and len(core) > 1:
                assert body.isupper()
            elif core[0].isupper():
                assert body[0].isupper() and body[1:].islower()
            else:
                assert body.islower()
        assert len(picks) > 3  # the place changes the choice
    digits = replacement("2024", "p/1")
    assert digits is not None and digits.isdigit() and len(digits) == 4 and digits != "2024"
    assert replacement("***", "p/2") is None
