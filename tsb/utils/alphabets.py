"""The named alphabets of the configs (``data.alphabet``, a recognizer's ``alphabet``).

Plain strings, shared by the data sets (which fonts draw them, which words to sample) and the
networks that read text (:class:`tsb.models.recognizer.CRNN`), so neither imports the other.
"""

from __future__ import annotations

from tsb.errors import ConfigError

LATIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!\"#$%&'()*+,-./:;<=>?@[]_{}|~"
CYRILLIC = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ0123456789!\"%'()*+,-./:;?"
ALPHABETS = {"latin": LATIN, "cyrillic": CYRILLIC, "latin+cyrillic": LATIN + CYRILLIC}


def resolve_alphabet(alphabet: str) -> str:
    """A named alphabet ('latin', 'cyrillic', 'latin+cyrillic') or the characters themselves."""
    out = ALPHABETS.get(alphabet, alphabet)
    if not out:
        raise ConfigError("data.alphabet is empty")
    return "".join(dict.fromkeys(out))
