"""Fetching data sets and checkpoints into a local cache: the older name of :mod:`tsb.storage.fetch`.

The code lives in :mod:`tsb.storage.fetch` (the storages use it too, and a storage may not import
a data module) and :func:`tsb.utils.io.file_digest`; this module re-exports them, so
``from tsb.data.remote import fetch`` and ``python -m tsb.data.remote REMOTE DEST`` keep working.
"""

from __future__ import annotations

from tsb.storage.fetch import ChecksumError, FetchError, _cli, download_url, extract_archive, fetch, verify
from tsb.utils.io import file_digest

__all__ = ["ChecksumError", "FetchError", "download_url", "extract_archive", "fetch", "file_digest", "verify"]

if __name__ == "__main__":  # pragma: no cover
    _cli()
