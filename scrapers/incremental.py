"""What the store already holds for a source, so spiders skip detail pages that have not changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


def _aware(dt: datetime) -> datetime:
    # SQLite hands back naive datetimes; the store writes them in UTC.
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


@dataclass(frozen=True)
class KnownPostings:
    """``last_seen`` of every stored posting of one source, by external id and by URL."""

    by_id: dict[str, datetime] = field(default_factory=dict)
    by_url: dict[str, datetime] = field(default_factory=dict)
    enabled: bool = True

    def is_fresh(self, modified: datetime | None, *, external_id: str | None = None,
                 url: str | None = None) -> bool:
        """True when the posting is stored and was last seen at or after ``modified`` (its lastmod or
        updateTime): refetching its detail page cannot change it. Unknown ``modified`` is never fresh."""
        if not self.enabled or modified is None:
            return False
        seen = None
        if external_id is not None:
            seen = self.by_id.get(str(external_id))
        if seen is None and url is not None:
            seen = self.by_url.get(url)
        return seen is not None and _aware(seen) >= _aware(modified)

    def __len__(self) -> int:
        return len(self.by_id)
