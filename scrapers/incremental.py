"""What the store already holds for a source, so spiders skip detail pages that have not changed."""

from __future__ import annotations

import hashlib
import math
from array import array
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import numpy as np


def _aware(dt: datetime) -> datetime:
    # SQLite hands back naive datetimes; the store writes them in UTC.
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _key(text: str) -> int:
    """A 64-bit digest of an external id or URL. With a million postings in a source the chance of any
    collision is about 3 in 100 million, and one would only skip refetching one detail page."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


class _SeenIndex:
    """key digest → last_seen (epoch seconds), as two sorted arrays: 16 bytes a posting, where a dict of
    strings to datetimes takes about 200."""

    __slots__ = ("_keys", "_seen")

    def __init__(self, keys: array, seen: array) -> None:  # type: ignore[type-arg]
        k = np.frombuffer(keys, dtype=np.uint64) if len(keys) else np.empty(0, dtype=np.uint64)
        v = np.frombuffer(seen, dtype=np.int64) if len(seen) else np.empty(0, dtype=np.int64)
        order = np.argsort(k, kind="stable")
        self._keys, self._seen = k[order], v[order]

    @classmethod
    def from_items(cls, items: Iterable[tuple[str, datetime]]) -> _SeenIndex:
        keys, seen = array("Q"), array("q")
        for text, dt in items:
            keys.append(_key(text))
            seen.append(int(_aware(dt).timestamp()))
        return cls(keys, seen)

    def get(self, text: str) -> int | None:
        k = np.uint64(_key(text))
        i = int(np.searchsorted(self._keys, k))
        if i < len(self._keys) and self._keys[i] == k:
            return int(self._seen[i])
        return None

    def __len__(self) -> int:
        return len(self._keys)


class KnownPostings:
    """``last_seen`` of every stored posting of one source, by external id and by URL.

    Held compactly (64-bit digests of the ids and URLs with epoch seconds, sorted), so an incremental crawl of a
    source with millions of stored postings needs tens of megabytes, not gigabytes.
    """

    def __init__(self, by_id: Mapping[str, datetime] | None = None, by_url: Mapping[str, datetime] | None = None,
                 enabled: bool = True) -> None:
        self.enabled = enabled
        self._by_id = _SeenIndex.from_items((by_id or {}).items())
        self._by_url = _SeenIndex.from_items((by_url or {}).items())

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str | None, datetime]]) -> KnownPostings:
        """From streamed ``(external_id, url, last_seen)`` rows, without building dictionaries first."""
        ids, id_seen, urls, url_seen = array("Q"), array("q"), array("Q"), array("q")
        for ext, url, seen in rows:
            ts = int(_aware(seen).timestamp())
            ids.append(_key(str(ext)))
            id_seen.append(ts)
            if url:
                urls.append(_key(url))
                url_seen.append(ts)
        out = cls()
        out._by_id, out._by_url = _SeenIndex(ids, id_seen), _SeenIndex(urls, url_seen)
        return out

    def is_fresh(self, modified: datetime | None, *, external_id: str | None = None,
                 url: str | None = None) -> bool:
        """True when the posting is stored and was last seen at or after ``modified`` (its lastmod or
        updateTime): refetching its detail page cannot change it. Unknown ``modified`` is never fresh."""
        if not self.enabled or modified is None:
            return False
        seen = None
        if external_id is not None:
            seen = self._by_id.get(str(external_id))
        if seen is None and url is not None:
            seen = self._by_url.get(url)
        # stored at whole seconds (rounded down): round the page's time up, so a same-second change is fetched
        return seen is not None and seen >= math.ceil(_aware(modified).timestamp())

    def __len__(self) -> int:
        return len(self._by_id)
