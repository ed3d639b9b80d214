"""What one poll of a mailbox (IMAP or Maildir) did."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class PollReport:
    """Counts by outcome: ``parsed`` into a conversation, ``failed`` to file (kept and shown in
    ``goodwill mail failed``), ``duplicates`` already stored (same Message-ID and body, or
    goodwill's own reply coming back), ``kept`` stored and filed by the worker's next round (the
    store was busy); ``errors``: not stored (a store error), left where they are for the next
    poll."""

    parsed: int = 0
    failed: int = 0
    duplicates: int = 0
    kept: int = 0
    errors: int = 0

    @property
    def fetched(self) -> int:
        return self.parsed + self.failed + self.duplicates + self.kept

    def count(self, status: str) -> None:
        if status == "parsed":
            self.parsed += 1
        elif status == "failed":
            self.failed += 1
        elif status == "stored":
            self.kept += 1
        else:
            self.duplicates += 1

    def add(self, other: PollReport) -> None:
        self.parsed += other.parsed
        self.failed += other.failed
        self.duplicates += other.duplicates
        self.kept += other.kept
        self.errors += other.errors

    def as_dict(self) -> dict[str, int]:
        return {"fetched": self.fetched, **asdict(self)}
