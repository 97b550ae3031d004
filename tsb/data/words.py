"""Strings to render: a shipped word list, random strings, or a user lexicon.

Shipped lists (``tsb/data/wordlists/``, licences beside them):

- ``en``: 23,748 English words (every third 2-12 letter ASCII word of SCOWL size 50, as packed
  by Debian's ``wamerican``; SCOWL's permissive licence in ``LICENSE-SCOWL.txt``);
- ``ru``: about 330 common Russian words and sign words, written for this project (CC0).

``lexicon`` may also be a path to a UTF-8 text file, one word a line. Words with characters
outside the alphabet, or outside the length range, are dropped (with an error when none is
left). A sample is a lexicon word (with probability ``1 - p_random``), its case changed to
UPPER / lower / Title with the given probabilities, or a random string over the alphabet.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from tsb.errors import ConfigError, DataNotFoundError

WORDLIST_DIR = Path(__file__).parent / "wordlists"
BUILTIN = {"en": WORDLIST_DIR / "en_scowl.txt", "ru": WORDLIST_DIR / "ru_basic.txt"}


@functools.lru_cache(maxsize=8)
def _read_lexicon(lexicon: str) -> tuple[str, ...]:
    path = BUILTIN.get(lexicon, Path(lexicon).expanduser())
    if not path.is_file():
        raise DataNotFoundError(
            f"word list {lexicon!r} not found; use one of {sorted(BUILTIN)} or a path to a text file "
            "with one word per line (data.lexicon)"
        )
    words = (w.strip() for w in path.read_text(encoding="utf-8").splitlines())
    return tuple(w for w in words if w and not w.startswith("#"))


class TextSampler:
    """Draws strings from a numpy ``Generator``; plain data, so it pickles into workers."""

    def __init__(
        self,
        alphabet: str,
        lexicon: str | None = "en",
        p_random: float = 0.2,
        min_len: int = 1,
        max_len: int = 12,
        p_upper: float = 0.2,
        p_lower: float = 0.3,
        p_title: float = 0.2,
        p_digits: float = 0.1,
    ) -> None:
        if min_len < 1 or max_len < min_len:
            raise ConfigError(f"need 1 <= min_len <= max_len, got min_len={min_len}, max_len={max_len}")
        self.alphabet = alphabet
        self.letters = "".join(c for c in dict.fromkeys(alphabet) if c.isalpha()) or alphabet
        self.digits = "".join(c for c in dict.fromkeys(alphabet) if c.isdigit())
        self.min_len, self.max_len = min_len, max_len
        self.p_upper, self.p_lower, self.p_title, self.p_digits = p_upper, p_lower, p_title, p_digits
        self.words: tuple[str, ...] = ()
        if lexicon:
            allowed = set(alphabet)
            self.words = tuple(
                w for w in _read_lexicon(lexicon) if min_len <= len(w) <= max_len and set(w) <= allowed
            )
            if not self.words:
                raise ConfigError(
                    f"no word of the lexicon {lexicon!r} fits the alphabet and lengths {min_len}..{max_len}; "
                    "fix data.lexicon or data.alphabet"
                )
        self.p_random = 1.0 if not self.words else p_random

    def random_string(self, rng: np.random.Generator) -> str:
        n = int(rng.integers(self.min_len, self.max_len + 1))
        pool = self.digits if self.digits and rng.random() < self.p_digits else self.letters
        idx = rng.integers(0, len(pool), n)
        return "".join(pool[i] for i in idx)

    def sample(self, rng: np.random.Generator) -> str:
        if rng.random() < self.p_random:
            return self.random_string(rng)
        w = self.words[int(rng.integers(len(self.words)))]
        r = rng.random()
        if r < self.p_upper:
            w2 = w.upper()
        elif r < self.p_upper + self.p_lower:
            w2 = w.lower()
        elif r < self.p_upper + self.p_lower + self.p_title:
            w2 = w[:1].upper() + w[1:].lower()
        else:
            w2 = w
        # case changes may leave the alphabet (e.g. a lower-case-only alphabet)
        return w2 if set(w2) <= set(self.alphabet) else w
