"""Recognition metrics on hand-checked examples."""

from __future__ import annotations

import pytest

from tsb.metrics.recognition import (
    RECOGNITION_METRIC_KEYS,
    RecognitionMetrics,
    edit_distances,
    normalized_edit_distance,
)


@pytest.mark.parametrize(
    ("a", "b", "d"),
    [("kitten", "sitting", 3), ("flaw", "lawn", 2), ("", "abc", 3), ("abc", "abc", 0), ("Hello", "hello", 1)],
)
def test_edit_distance_examples(a: str, b: str, d: int) -> None:
    assert edit_distances([a], [b]) == [d]


def test_normalized_edit_distance() -> None:
    assert normalized_edit_distance("kitten", "sitting") == pytest.approx(3 / 7)
    assert normalized_edit_distance("", "") == 0.0
    assert normalized_edit_distance("abc", "") == 1.0
    assert normalized_edit_distance("abcd", "abc") == pytest.approx(1 / 4)


def test_accumulated_metrics() -> None:
    m = RecognitionMetrics()
    m.update(["hello", "World"], ["hello", "world"])
    m.update(["kitten", ""], ["sitting", "x"])
    out = m.compute()
    assert set(out) == set(RECOGNITION_METRIC_KEYS)
    assert out["rec_acc"] == pytest.approx(25.0)
    assert out["rec_acc_ci"] == pytest.approx(50.0)
    assert out["ned"] == pytest.approx((0 + 1 / 5 + 3 / 7 + 1) / 4)


def test_empty_gives_none_and_length_mismatch_raises() -> None:
    assert all(v is None for v in RecognitionMetrics().compute().values())
    with pytest.raises(ValueError):
        RecognitionMetrics().update(["a"], [])
