"""Byte-level passes over a bronze file, vectorised with numpy.

`scan_file` is the cheap pass every file gets: its checksum and its physical
line count. `index_records` is the exact pass a file gets only
when it is not clean (bad rows, blank lines, fields spanning lines): it finds
where every CSV record starts, so each row keeps its true line number and its
original text.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

import numpy as np

CHUNK_BYTES = 1 << 24
_NEWLINE = 10
_QUOTE = 34
_CARRIAGE_RETURN = 13
_COMMA = 44
_SPACE = 32
BOM = b"\xef\xbb\xbf"


def is_gzip(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def _decompressed_chunks(path: Path) -> Iterator[bytes]:
    with gzip.open(path, "rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            yield chunk


def content_chunks(path: Path) -> Iterator[bytes]:
    """The file's CSV text in chunks, decompressed when it is gzipped."""
    if is_gzip(path):
        yield from _decompressed_chunks(path)
        return
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            yield chunk


def read_first_line(path: Path, limit: int = 1 << 16) -> bytes:
    """The header line (BOM kept, line end dropped), without reading the rest."""
    try:
        with gzip.open(path, "rb") if is_gzip(path) else path.open("rb") as stream:
            head = stream.read(limit)
    except (OSError, EOFError, zlib.error) as error:
        if isinstance(error, gzip.BadGzipFile | EOFError | zlib.error):
            raise CorruptGzip(f"not a valid gzip file ({error})") from error
        raise
    return head.split(b"\n", 1)[0].rstrip(b"\r")


@dataclass(frozen=True)
class FileScan:
    """What one pass over the bytes tells before parsing."""

    sha256: str
    size_bytes: int
    content_bytes: int
    newlines: int
    ends_with_newline: bool
    commas: int = 0
    has_quotes: bool = False
    has_carriage_returns: bool = False
    has_padded_fields: bool = False  # a space next to a comma, a line end or the file's ends

    @property
    def physical_lines(self) -> int:
        if self.content_bytes == 0:
            return 0
        return self.newlines + (0 if self.ends_with_newline else 1)


def scan_file(path: Path) -> FileScan:
    """Checksum the file's bytes and count its content's lines and commas.

    The checksum reads the file again in a thread of its own beside the
    counting (hashlib and numpy both let go of the GIL), so the two take the
    wall time of one.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        checksum = pool.submit(_sha256, path)
        counts = _count_content(path)
        sha256 = checksum.result()
    return FileScan(sha256=sha256, size_bytes=path.stat().st_size, **counts)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while raw := stream.read(CHUNK_BYTES):
            digest.update(raw)
    return digest.hexdigest()


def _padded(codes: np.ndarray, previous: int) -> bool:
    """Whether a space in ``codes`` touches a comma or a line end (``previous`` precedes them)."""
    spaces = np.flatnonzero(codes == _SPACE)
    if not spaces.size:
        return False
    before = np.where(spaces > 0, codes[np.maximum(spaces - 1, 0)], previous)
    inner = spaces[spaces + 1 < len(codes)]
    after = codes[inner + 1]
    bounds = (_COMMA, _NEWLINE)
    return bool(np.isin(before, bounds).any() or np.isin(after, bounds).any())


def _checked_content(path: Path) -> Iterator[bytes]:
    """The content in chunks; a gzip stream that is corrupt or ends early raises."""
    if not is_gzip(path):
        yield from content_chunks(path)
        return
    decompressor = zlib.decompressobj(wbits=47)
    with path.open("rb") as stream:
        while raw := stream.read(CHUNK_BYTES):
            if chunk := _decompress(decompressor, raw):
                yield chunk
    if not decompressor.eof:
        raise CorruptGzip("the gzip stream ends early (a truncated upload?)")
    if tail := decompressor.flush():
        yield tail


class _Counts(TypedDict):
    content_bytes: int
    newlines: int
    ends_with_newline: bool
    commas: int
    has_quotes: bool
    has_carriage_returns: bool
    has_padded_fields: bool


def _count_content(path: Path) -> _Counts:
    newlines = commas = content_bytes = 0
    has_quotes = has_carriage_returns = has_padded_fields = False
    last = b""
    for chunk in _checked_content(path):
        codes = np.frombuffer(chunk, np.uint8)
        newlines += int(np.count_nonzero(codes == _NEWLINE))
        commas += int(np.count_nonzero(codes == _COMMA))
        has_quotes = has_quotes or chunk.find(b'"') >= 0
        has_carriage_returns = has_carriage_returns or chunk.find(b"\r") >= 0
        # The start of the file bounds a field as a line end does.
        has_padded_fields = (
            has_padded_fields
            or _padded(codes, last[0] if last else _NEWLINE)
            or (last == b" " and chunk[:1] in (b",", b"\n"))
        )
        content_bytes += len(chunk)
        last = chunk[-1:]
    has_padded_fields = has_padded_fields or last == b" "
    return {
        "content_bytes": content_bytes,
        "newlines": newlines,
        "ends_with_newline": last == b"\n",
        "commas": commas,
        "has_quotes": has_quotes,
        "has_carriage_returns": has_carriage_returns,
        "has_padded_fields": has_padded_fields,
    }


def scan_bytes_only(path: Path) -> FileScan:
    """Checksum and size alone, for a file whose content cannot be read."""
    return FileScan(_sha256(path), path.stat().st_size, 0, 0, False)


class CorruptGzip(ValueError):
    """A .gz file that does not decompress to its end."""


def _decompress(decompressor: zlib._Decompress, raw: bytes) -> bytes:
    try:
        return decompressor.decompress(raw)
    except zlib.error as error:
        raise CorruptGzip(f"not a valid gzip file ({error})") from error


class UnbalancedQuotes(ValueError):
    """A double quote is opened and never closed."""


@dataclass(frozen=True)
class RecordIndex:
    """Where each CSV record of a file starts and ends.

    Records are split at line ends outside double quotes, exactly as an RFC
    4180 parser splits them; record 0 is the header. A blank record (an empty
    line) is kept so record numbers line up with the CSV reader's, which
    counts blank lines too.
    """

    starts: np.ndarray  # byte offset of each record
    ends: np.ndarray  # byte offset just past each record, line end excluded
    lines: np.ndarray  # physical line (1-based) where each record starts
    blank: np.ndarray  # bool: the record is an empty line

    def __len__(self) -> int:
        return len(self.starts)


def index_records(path: Path) -> RecordIndex:
    """Index every record of a file; raise UnbalancedQuotes if quoting never closes."""
    terminators: list[np.ndarray] = []
    terminator_newline_ordinals: list[np.ndarray] = []
    cr_before: list[np.ndarray] = []
    quotes_seen = 0
    newlines_seen = 0
    offset = 0
    previous_byte = 0
    for chunk in content_chunks(path):
        data = np.frombuffer(chunk, np.uint8)
        newline_at = np.flatnonzero(data == _NEWLINE)
        quote_at = np.flatnonzero(data == _QUOTE)
        quotes_before = quotes_seen + np.searchsorted(quote_at, newline_at)
        outside_quotes = (quotes_before & 1) == 0
        ends_here = newline_at[outside_quotes]
        terminators.append(ends_here + offset)
        terminator_newline_ordinals.append(newlines_seen + np.flatnonzero(outside_quotes))
        before = np.where(ends_here > 0, data[np.maximum(ends_here - 1, 0)], previous_byte)
        cr_before.append(before == _CARRIAGE_RETURN)
        quotes_seen += len(quote_at)
        newlines_seen += len(newline_at)
        offset += len(chunk)
        previous_byte = int(data[-1]) if len(data) else previous_byte
    if quotes_seen & 1:
        raise UnbalancedQuotes("a double quote is opened and never closed")

    ends = np.concatenate(terminators) if terminators else np.empty(0, np.int64)
    ordinals = np.concatenate(terminator_newline_ordinals) if terminators else ends
    has_cr = np.concatenate(cr_before) if cr_before else np.empty(0, bool)
    starts = np.concatenate(([0], ends + 1)).astype(np.int64)
    lines = np.concatenate(([1], ordinals + 2)).astype(np.int64)
    record_ends = ends.astype(np.int64)
    cr_at_end = has_cr
    if offset > (int(ends[-1]) + 1 if len(ends) else 0):
        record_ends = np.append(record_ends, offset)  # last record without a line end
        cr_at_end = np.append(cr_at_end, previous_byte == _CARRIAGE_RETURN)
    else:
        starts, lines = starts[:-1], lines[:-1]
    record_ends = record_ends - cr_at_end.astype(np.int64)
    blank = record_ends <= starts
    return RecordIndex(starts=starts, ends=record_ends, lines=lines, blank=blank)


def read_slices(path: Path, ranges: list[tuple[int, int]]) -> list[bytes]:
    """The content bytes of each (start, end) range, ranges sorted by start."""
    out: list[bytes] = []
    if not ranges:
        return out
    buffer = bytearray()
    buffer_start = 0
    position = 0
    chunks = content_chunks(path)
    for start, end in ranges:
        while position < end:
            chunk = next(chunks, None)
            if chunk is None:
                break
            buffer.extend(chunk)
            position += len(chunk)
        out.append(bytes(buffer[start - buffer_start : end - buffer_start]))
        keep_from = start - buffer_start
        if keep_from > CHUNK_BYTES:
            del buffer[:keep_from]
            buffer_start += keep_from
    return out
