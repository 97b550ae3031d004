from __future__ import annotations

import numpy as np
import pytest

from tsb.data.fonts import CYRILLIC, LATIN
from tsb.data.words import TextSampler


def test_words_respect_alphabet_and_lengths() -> None:
    s = TextSampler("abcdefghijklmnopqrstuvwxyz", "en", p_random=0.0, min_len=3, max_len=5)
    rng = np.random.default_rng(0)
    for _ in range(200):
        w = s.sample(rng)
        assert 3 <= len(w) <= 5 and set(w) <= set("abcdefghijklmnopqrstuvwxyz")


def test_random_strings_and_case() -> None:
    s = TextSampler(LATIN, "en", p_random=1.0, min_len=4, max_len=4, p_digits=0.0)
    rng = np.random.default_rng(1)
    assert all(len(w) == 4 and w.isalpha() for w in (s.sample(rng) for _ in range(50)))
    s2 = TextSampler(LATIN, "en", p_random=0.0, p_upper=1.0)
    assert all(w == w.upper() for w in (s2.sample(rng) for _ in range(50)))


def test_russian_lexicon_and_user_lexicon(tmp_path) -> None:
    s = TextSampler(CYRILLIC, "ru", p_random=0.0)
    rng = np.random.default_rng(2)
    assert all(set(w) <= set(CYRILLIC) for w in (s.sample(rng) for _ in range(50)))
    lex = tmp_path / "words.txt"
    lex.write_text("# comment\nalpha\nbeta\n", encoding="utf-8")
    s = TextSampler(LATIN, str(lex), p_random=0.0, p_upper=0, p_lower=0, p_title=0)
    assert {s.sample(rng) for _ in range(40)} == {"alpha", "beta"}
    with pytest.raises(ValueError, match="no word of the lexicon"):
        TextSampler("xyz", str(lex))
