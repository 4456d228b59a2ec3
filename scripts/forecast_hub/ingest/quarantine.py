"""The quarantine: a file's bad rows, each with its line, rule and original text.

Only the exact path quarantines. Its bad rows come from two places: the
rows DuckDB parsed and found breaking a rule (pipeline.py), and the lines
its reader rejected whole (a wrong number of fields, a line too long).
The record index gives each its physical line and its bytes.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TypedDict

import pyarrow as pa
import pyarrow.parquet as pq

from forecast_hub.ingest.pipeline import BadRow, Lineage, RowReject
from forecast_hub.ingest.scan import BOM, RecordIndex, read_slices

QUARANTINE_SCHEMA = pa.schema(
    [
        ("tenant_id", pa.string()),
        ("feed", pa.string()),
        ("source_file", pa.string()),
        ("source_file_seq", pa.int64()),
        ("source_line", pa.int64()),
        ("file_sha256", pa.string()),
        ("column_name", pa.string()),
        ("rule", pa.string()),
        ("message", pa.string()),
        ("raw_text", pa.string()),
        ("ingested_at", pa.timestamp("us", tz="UTC")),
    ]
)


class QuarantineRow(TypedDict):
    """One bad row as the quarantine file stores it (QUARANTINE_SCHEMA)."""

    tenant_id: str
    feed: str
    source_file: str
    source_file_seq: int
    source_line: int
    file_sha256: str
    column_name: str | None
    rule: str
    message: str
    raw_text: str
    ingested_at: datetime


def quarantine_rows(
    path: Path,
    feed: str,
    lineage: Lineage,
    index: RecordIndex,
    bad_rows: list[BadRow],
    structural: list[RowReject],
) -> list[QuarantineRow]:
    """The bad rows and the rejected lines, in file order, with their original text."""
    bad = bad_rows + [
        BadRow(reject.line - 1, None, reject.rule, field_count_message(reject.message))
        for reject in structural
    ]
    texts = raw_texts(path, index, [row.record for row in bad])
    ingested_at = datetime.fromisoformat(lineage.ingested_at)
    return [
        QuarantineRow(
            tenant_id=lineage.tenant_id,
            feed=feed,
            source_file=lineage.source_file,
            source_file_seq=lineage.source_file_seq,
            source_line=int(index.lines[row.record]),
            file_sha256=lineage.file_sha256,
            column_name=row.column_name,
            rule=row.rule,
            message=row.message,
            raw_text=texts[row.record],
            ingested_at=ingested_at,
        )
        for row in sorted(bad, key=lambda row: row.record)
    ]


def field_count_message(message: str) -> str:
    """DuckDB's 'Expected Number of Columns: 3 Found: 2' as a person would say it."""
    words = message.replace(":", " ").split()
    numbers = [w for w in words if w.isdigit()]
    if len(numbers) >= 2:
        return f"expected {numbers[0]} fields, found {numbers[1]}"
    return message.strip().splitlines()[0] if message.strip() else "wrong number of fields"


def raw_texts(path: Path, index: RecordIndex, records: list[int]) -> dict[int, str]:
    """The original text of the given records, line ends excluded."""
    ordered = sorted(set(records))
    ranges = [(int(index.starts[r]), int(index.ends[r])) for r in ordered]
    texts = read_slices(path, ranges)
    out = {}
    for record, text in zip(ordered, texts, strict=True):
        if record == 0 and text.startswith(BOM):
            text = text[len(BOM) :]
        out[record] = text.decode("utf-8", errors="replace")
    return out


def write_quarantine(rows: list[QuarantineRow], target: Path) -> int:
    table = pa.Table.from_pylist(rows, schema=QUARANTINE_SCHEMA)
    target.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, target, compression="zstd")
    return int(table.num_rows)
