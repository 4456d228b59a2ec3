"""Dirty mode's bad files: one writer per reason in ``FILE_REASONS``, each rejected whole."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import pyarrow as pa

from forecast_hub.feeds import FEEDS
from forecast_hub.generate.calendar import timestamp
from forecast_hub.generate.locations import location_columns
from forecast_hub.generate.output import FileRecord, Output, RejectedFile
from forecast_hub.generate.sales import SalesRows, SalesText
from forecast_hub.generate.sink import Style, first_values, quote
from forecast_hub.generate.sku_attributes import (
    AttributeRows,
    attribute_columns,
    attribute_vocabulary,
)
from forecast_hub.generate.skus import sku_columns
from forecast_hub.generate.tenants import Tenant


def _bad_file(
    t: Tenant, output: Output, reason: str, feed: str, suffix: str, lines: Sequence[str | bytes]
) -> None:
    """Write a file that must be rejected whole; ``lines`` are its header and data lines."""
    rel = f"{t.tenant_id}/{feed}/{feed}_{t.cal.iso(t.cal.days - 1)}{suffix}.csv"
    path = output.root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines))
    output.files.append(FileRecord(rel, t.tenant_id, feed, max(0, len(lines) - 1)))
    output.rejected.append(RejectedFile(rel, reason))


def _csv_line(values: Sequence[str | None]) -> str:
    return ",".join(quote(value or "") for value in values)


def _plain_lines(columns: Sequence[pa.Array]) -> list[str]:
    return [_csv_line(row) for row in zip(*(c.to_pylist() for c in columns), strict=True)]


def _header(feed: str) -> str:
    return ",".join(FEEDS[feed].column_names)


def _not_utf8(t: Tenant, output: Output) -> None:
    last, renamed = t.cal.days - 1, np.zeros(t.skus.count, dtype=np.int64)
    idx = np.arange(min(t.skus.count, 20))
    columns = sku_columns(t, idx, last, t.skus.pack, renamed, timestamp(t.cal, last))
    latin1 = first_values(columns)
    latin1[1] = "Caf\u00e9 Cr\u00e8me"
    lines: list[str | bytes] = [_header("skus"), *_plain_lines(columns)]
    lines.insert(len(lines) // 2 + 1, _csv_line(latin1).encode("latin-1"))
    _bad_file(t, output, "not_utf8", "skus", "_export", lines)


def _not_csv(t: Tenant, output: Output) -> None:
    count, last = 30, t.cal.days - 1
    rows = SalesRows(*(np.full(count, v) for v in (0, 0, last, 10_000, 250, last, 0)))
    rows = replace(rows, sku=np.arange(count) % t.skus.count)
    lines = _plain_lines(SalesText(t).columns(rows, Style()))
    lines[count // 3] = lines[count // 3].replace(",", ',"', 1)
    _bad_file(t, output, "not_csv", "sales", "_partial", [_header("sales"), *lines])


def _no_header(t: Tenant, output: Output) -> None:
    _bad_file(t, output, "no_header", "promotions", "_empty", [])


def _duplicate_header(t: Tenant, output: Output) -> None:
    last, renamed = t.cal.days - 1, np.zeros(t.locations.count, dtype=np.int64)
    idx = np.arange(min(t.locations.count, 10))
    stamp = timestamp(t.cal, last)
    columns = location_columns(t, idx, last, t.locations.region, renamed, stamp)
    header = _header("locations") + ", Location_Name"
    _bad_file(
        t,
        output,
        "duplicate_header",
        "locations",
        "_dup",
        [header, *_plain_lines([*columns, columns[1]])],
    )


def _missing_required_column(t: Tenant, output: Output) -> None:
    vocab = attribute_vocabulary(t.rng("attributes"))
    sku = np.arange(min(t.skus.count, 10))
    rows = AttributeRows(sku, np.zeros_like(sku), np.zeros_like(sku))
    header = ",".join(FEEDS["sku_attributes"].column_names[:3])
    lines = _plain_lines(attribute_columns(t, vocab, rows, "")[:3])
    _bad_file(
        t, output, "missing_required_column", "sku_attributes", "_no_timestamps", [header, *lines]
    )


def _unknown_feed(t: Tenant, output: Output) -> None:
    stamp = timestamp(t.cal, t.cal.days - 1)
    location = t.locations.codes[0].as_py()
    skus = t.skus.codes[:10].to_pylist()
    lines = [f"{sku},{location},{(7 * k) % 40},{stamp}" for k, sku in enumerate(skus)]
    header = "sku_code,location_code,on_hand,updated_at"
    _bad_file(t, output, "unknown_feed", "inventory", "", [header, *lines])


BAD_FILE_WRITERS: dict[str, Callable[[Tenant, Output], None]] = {
    "not_utf8": _not_utf8,
    "not_csv": _not_csv,
    "no_header": _no_header,
    "duplicate_header": _duplicate_header,
    "missing_required_column": _missing_required_column,
    "unknown_feed": _unknown_feed,
}
