"""The CSV sink: one file written in a given ``Style``, and bad rows injected into it.

A style picks gzip, a byte-order mark, CRLF line ends, header case and spacing,
column order, quoted, padded and extra columns, and the timestamp form; every
choice is valid under the contract. The sink quotes fields where needed, numbers
the physical lines and records injected bad rows and the file in ``Output``.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from forecast_hub.feeds import FEED_NAMES, FEEDS
from forecast_hub.generate.calendar import TimestampStyle
from forecast_hub.generate.dirty import BAD_VARIANTS, BadVariant, Injector
from forecast_hub.generate.output import FileRecord, Output, QuarantinedRow
from forecast_hub.generate.tenants import Tenant

_BOM = b"\xef\xbb\xbf"
_GZIP_LEVEL = 1

HeaderCase = Literal["lower", "upper", "spaced"]


def quote(value: str) -> str:
    """One CSV field, quoted when it holds a comma, quote or line break."""
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


@dataclass(frozen=True)
class Style:
    """How one file is laid out; every option is valid under the contract."""

    gzip: bool = False
    bom: bool = False
    crlf: bool = False
    header: HeaderCase = "lower"
    order: tuple[str, ...] | None = None
    quoted: tuple[str, ...] = ()
    padded: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    timestamps: TimestampStyle = "utc"


def _header_name(name: str, case: HeaderCase) -> str:
    if case == "upper":
        return name.upper()
    if case == "spaced":
        return f" {name.title()} "
    return name


def _quote_where_needed(values: pa.Array) -> pa.Array:
    needed = pc.match_substring_regex(values, r'[",\r\n]')
    if not pc.any(needed).as_py():
        return values
    return pc.if_else(needed, _quote_all(values), values)


def _quote_all(values: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), '"', "")


def _csv_lines(fields: Sequence[pa.Array], eol: str) -> pa.Array:
    row = pc.binary_join_element_wise(*fields, ",", null_handling="replace", null_replacement="")
    return pc.binary_join_element_wise(row, "", eol)


def _text_bytes(lines: pa.Array) -> memoryview:
    buffers = lines.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int32)
    first, last = offsets[lines.offset], offsets[lines.offset + len(lines)]
    return memoryview(buffers[2])[first:last]


class Sink:
    """One CSV file being written: header, styled rows, injected bad rows, line numbers."""

    def __init__(
        self,
        output: Output,
        tenant_id: str,
        feed: str,
        filename: str,
        style: Style,
        injector: Injector | None,
    ) -> None:
        self.rel = f"{tenant_id}/{feed}/{filename}" + (".csv.gz" if style.gzip else ".csv")
        self.tenant_id, self.feed, self.style = tenant_id, feed, style
        self.columns = FEEDS[feed].column_names + style.extra
        self.order = [self.columns.index(n) for n in (style.order or self.columns)]
        self.eol = "\r\n" if style.crlf else "\n"
        self.injector = injector
        self.free_text = feed != "sales"
        self.output = output
        self.rows, self.next_line = 0, 2
        path = output.root / self.rel
        path.parent.mkdir(parents=True, exist_ok=True)
        self._raw: BinaryIO = path.open("wb")
        self._stream: BinaryIO | gzip.GzipFile = self._raw
        if style.gzip:
            self._stream = gzip.GzipFile(
                filename="", mode="wb", fileobj=self._raw, mtime=0, compresslevel=_GZIP_LEVEL
            )
        header = ",".join(_header_name(self.columns[k], style.header) for k in self.order)
        self._stream.write((_BOM if style.bom else b"") + (header + self.eol).encode())

    def write(self, columns: Sequence[pa.Array]) -> None:
        count = len(columns[0])
        if count == 0:
            return
        lines = _csv_lines([self._field(columns[k], self.columns[k]) for k in self.order], self.eol)
        bad_at: list[tuple[int, BadVariant]] = []
        if self.injector is not None:
            lines, bad_at = self._inject(self.injector, lines, columns)
        starts = self._line_starts(lines)
        for position, variant in bad_at:
            self._record_bad(int(starts[position]), variant)
        self._stream.write(_text_bytes(lines))
        self.rows += len(lines)

    def close(self) -> None:
        if self.injector is not None:
            for variant in self.injector.missing():
                line = self._bad_line(self.injector.template, variant)
                self._record_bad(self.next_line, variant)
                self.next_line += line.count("\n")
                self._stream.write(line.encode())
                self.rows += 1
        self._stream.close()
        self._raw.close()
        self.output.files.append(FileRecord(self.rel, self.tenant_id, self.feed, self.rows))

    def _field(self, values: pa.Array, name: str) -> pa.Array:
        if name in self.style.quoted:
            return _quote_all(values)
        if name in self.style.padded:
            return pc.binary_join_element_wise(" ", values, " ", "")
        return _quote_where_needed(values) if self.free_text else values

    def _inject(
        self, injector: Injector, lines: pa.Array, columns: Sequence[pa.Array]
    ) -> tuple[pa.Array, list[tuple[int, BadVariant]]]:
        sources = injector.sources(len(lines))
        if sources.size == 0:
            return lines, []
        variants = [injector.next_variant() for _ in sources]
        raw = [[column[int(i)].as_py() for column in columns] for i in sources]
        bad = [self._bad_line(values, v) for values, v in zip(raw, variants, strict=True)]
        keys = np.concatenate([np.arange(len(lines)) * 2, sources * 2 + 1])
        order = np.argsort(keys, kind="stable")
        merged = pa.concat_arrays([lines, pa.array(bad, pa.string())]).take(pa.array(order))
        positions = np.nonzero(order >= len(lines))[0]
        return merged, [(int(p), variants[int(order[p]) - len(lines)]) for p in positions]

    def _bad_line(self, values: Sequence[str | None], variant: BadVariant) -> str:
        row = list(values)
        for name, value in variant.values:
            row[self.columns.index(name)] = value
        fields = [quote(row[k] or "") for k in self.order]
        if variant.fields > 0:
            fields.append("surplus")
        elif variant.fields < 0:
            fields.pop()
        return ",".join(fields) + self.eol

    def _line_starts(self, lines: pa.Array) -> np.ndarray:
        if self.free_text:
            breaks = np.cumsum(pc.count_substring(lines, "\n").to_numpy())
            starts = self.next_line + np.concatenate([[0], breaks[:-1]])
            self.next_line += int(breaks[-1])
        else:
            starts = self.next_line + np.arange(len(lines))
            self.next_line += len(lines)
        return starts

    def _record_bad(self, line: int, variant: BadVariant) -> None:
        self.output.quarantined.append(QuarantinedRow(self.rel, line, variant.column, variant.rule))


def write_rows(
    t: Tenant,
    output: Output,
    feed: str,
    filename: str,
    style: Style,
    columns: Sequence[pa.Array],
    template: Sequence[str | None] | None = None,
) -> None:
    """Write one whole (small) file."""
    sink = open_sink(t, output, feed, filename, style, template)
    sink.write(columns)
    sink.close()


def open_sink(
    t: Tenant,
    output: Output,
    feed: str,
    filename: str,
    style: Style,
    template: Sequence[str | None] | None = None,
) -> Sink:
    """A file to write; given a valid template row, bad rows are injected into it."""
    injector = None
    if template is not None:
        rng = t.rng("dirty", FEED_NAMES.index(feed))
        injector = Injector(rng, BAD_VARIANTS[feed], list(template))
    return Sink(output, t.tenant_id, feed, filename, style, injector)


def bad_row_template(t: Tenant, feed: str, columns: Sequence[pa.Array]) -> list[str | None] | None:
    """The first row of columns when this tenant's feed gets bad rows, else None."""
    return first_values(columns) if t.has_bad_rows(feed) else None


def first_values(columns: Sequence[pa.Array]) -> list[str | None]:
    """The values of the first row of ``columns``."""
    return [column[0].as_py() for column in columns]
