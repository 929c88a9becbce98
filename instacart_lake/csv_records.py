"""What a record of a raw CSV file is: one definition, applied by ingest (which counts the
records into the manifest) and by job 1 (which reads them), so that the two always agree.

The contract:
- A physical line ends at `\\n`. A `\\r` right before the `\\n` belongs to the line end
  (CRLF), and so does a `\\r` that ends the file (a CRLF file cut before its last `\\n`); any
  other `\\r` is data (job 1 then treats it as whitespace: trimmed at a field's ends, a
  single space inside a name). A last line without `\\n` is a line. The header is line 1; it is
  always a record by itself.
- A record is one physical line, except (RFC 4180) when a double-quoted field is still open
  at the line end: then the record continues over the line end, whose bytes it keeps as in
  the source (`\\n` or `\\r\\n`), with the next physical line, until the quote closes. Each
  `"` toggles the quote state (an escaped `""` toggles it twice), so only a line with an odd
  number of `"` (an "odd line") opens a record that continues, or closes one.
- A quote that does not close by the end of the file, or within MAX_RECORD_LINES physical
  lines, does not join: its opening line is a record by itself (job 1 quarantines it as
  `unterminated_quote`) and records resume at the next physical line.
- A record's line number is that of its first physical line.
- A NUL byte anywhere means the file is not CSV text: ingest refuses it, naming the line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

MAX_RECORD_LINES = 16
"""The most physical lines one record may span. A legal multi-line value (a note, an address)
spans a few lines; a stray quote would otherwise swallow the rest of the file into one bad
record, so past this bound its line is rejected alone and the lines after it are read as
they are. Two stray quotes closer than this do join the lines between them into one record
(which then rarely has the right fields, and is quarantined as one). The bound also limits
what job 1 gathers on the driver for each quoted record."""

FIRST_DATA_LINE = 2
"""Line 1 is the header."""

_ALL_BUT_QUOTES_AND_LINE_FEEDS = bytes(byte for byte in range(256) if byte not in b'"\n')


@dataclass(frozen=True)
class QuotedRecord:
    """A record decided by its quotes: the physical lines from the odd line that opened a quote
    to the odd line that closed it, or only the opening line when the quote did not close."""

    first_line: int
    last_line: int

    @property
    def unterminated(self) -> bool:
        return self.last_line == self.first_line


class QuoteTracker:
    """Turns the odd lines of a file, given in increasing order, into quoted records."""

    def __init__(self) -> None:
        self._opening: int | None = None

    def add(self, odd_line: int) -> QuotedRecord | None:
        """The record this odd line completes, if any (the header's parity is ignored)."""
        if odd_line < FIRST_DATA_LINE:
            return None
        opening = self._opening
        if opening is None:
            self._opening = odd_line
            return None
        if odd_line - opening < MAX_RECORD_LINES:
            self._opening = None
            return QuotedRecord(opening, odd_line)
        self._opening = odd_line
        return QuotedRecord(opening, opening)

    def finish(self) -> QuotedRecord | None:
        """At the end of the file: the quote still open, unterminated."""
        opening, self._opening = self._opening, None
        return None if opening is None else QuotedRecord(opening, opening)


def quoted_records(odd_lines: Iterable[int]) -> Iterator[QuotedRecord]:
    """The quoted records of a file whose odd lines are `odd_lines` (in increasing order)."""
    tracker = QuoteTracker()
    for line in odd_lines:
        record = tracker.add(line)
        if record is not None:
            yield record
    last = tracker.finish()
    if last is not None:
        yield last


def join_lines(lines: list[bytes]) -> bytes:
    """A record's bytes from its physical lines as Spark's text reader gives them with
    `lineSep` "\\n" (each with the `\\r` of a CRLF still on it): the line ends inside the
    record kept, the record's own line end left out."""
    record = b"\n".join(lines)
    return record[:-1] if record.endswith(b"\r") else record


class RecordCounter:
    """Counts the records of a file fed in consecutive chunks of any size.

    Chunks without a quote (nearly all of a numeric file's) only have their `\\n` counted.
    Of the others only the quotes and line feeds are kept, and pairs of quotes taken away
    (both at C speed): each odd line keeps one quote."""

    def __init__(self) -> None:
        self._newlines = 0
        self._open_line_is_odd = False
        """The parity of the quotes seen so far on the line that the last chunk left unfinished."""
        self._ends_with_newline = True
        self._continuation_lines = 0
        self._tracker = QuoteTracker()

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        newlines = chunk.count(b"\n")
        if b'"' in chunk:
            self._track_quotes(chunk, newlines)
        elif self._open_line_is_odd and newlines:
            self._odd_line(self._newlines + 1)
            self._open_line_is_odd = False
        self._newlines += newlines
        self._ends_with_newline = chunk.endswith(b"\n")

    def finish(self) -> int:
        """The file's records after the header; call once, after its last chunk."""
        lines = self._newlines + (0 if self._ends_with_newline else 1)
        if not self._ends_with_newline and self._open_line_is_odd:
            self._odd_line(lines)
        return max(lines - self._continuation_lines - 1, 0)  # a quote still open joins nothing

    def _track_quotes(self, chunk: bytes, newlines: int) -> None:
        unpaired = chunk.translate(None, _ALL_BUT_QUOTES_AND_LINE_FEEDS).replace(b'""', b"")
        odd_offsets: set[int] = set()
        offset = start = 0
        position = unpaired.find(b'"')
        while position != -1:
            offset += unpaired.count(b"\n", start, position)
            start = position
            odd_offsets.add(offset)
            position = unpaired.find(b'"', position + 1)
        if self._open_line_is_odd:
            odd_offsets ^= {0}
        self._open_line_is_odd = newlines in odd_offsets
        for offset in sorted(odd_offsets):
            if offset < newlines:
                self._odd_line(self._newlines + 1 + offset)

    def _odd_line(self, line: int) -> None:
        record = self._tracker.add(line)
        if record is not None:
            self._continuation_lines += record.last_line - record.first_line
