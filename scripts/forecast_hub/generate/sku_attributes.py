"""The sku_attributes feed: five hot attributes per SKU, a long tail of rare ones.

The full file is written in blocks of SKUs, so memory stays bounded; deltas carry
the attributes of SKUs that appear later, changed values, and removed attributes
(an empty value).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from forecast_hub.generate.calendar import timestamp
from forecast_hub.generate.output import Output
from forecast_hub.generate.sink import Style, bad_row_template, open_sink, write_rows
from forecast_hub.generate.tenants import Tenant
from forecast_hub.generate.vocabulary import (
    ATTRIBUTE_WORDS,
    COLORS,
    FLAGS,
    HOT_ATTRIBUTES,
    MATERIALS,
    SIZES,
    VALUE_WORDS,
    long_texts,
    take,
)


@dataclass(frozen=True)
class AttributeVocabulary:
    """A tenant's attribute names and the pool of values each kind of name takes."""

    names: pa.Array  # hot names, then the long tail
    values: pa.Array
    segments: np.ndarray  # (kind, 2): first value index and count
    kind: np.ndarray  # value kind per name
    weights: np.ndarray  # how often each long-tail name is picked

    @property
    def long_tail(self) -> int:
        return len(self.kind) - len(HOT_ATTRIBUTES)


def attribute_vocabulary(rng: np.random.Generator) -> AttributeVocabulary:
    """The hot names, a long tail of 250 to 399 names drawn from ``rng``, their value pools."""
    tail = int(rng.integers(250, 400))
    words = rng.integers(0, len(ATTRIBUTE_WORDS), tail)
    names = list(HOT_ATTRIBUTES) + [
        f"attr_{ATTRIBUTE_WORDS[w]}_{j + 1}" for j, w in enumerate(words)
    ]
    pools = (
        COLORS,
        SIZES,
        MATERIALS,
        tuple(str(d) for d in range(1, 731)),
        ("true", "false"),
        VALUE_WORDS,
        FLAGS,
        long_texts(),
    )
    counts = np.array([len(pool) for pool in pools])
    segments = np.stack([np.concatenate([[0], np.cumsum(counts)[:-1]]), counts], axis=1)
    tail_kind = rng.choice([5, 3, 6, 7], size=tail, p=[0.5, 0.3, 0.12, 0.08])
    weights = np.array([1.0 / (rank + 5.0) ** 0.8 for rank in range(tail)])
    return AttributeVocabulary(
        names=pa.array(names),
        values=pa.array([value for pool in pools for value in pool]),
        segments=segments,
        kind=np.concatenate([np.arange(len(HOT_ATTRIBUTES)), tail_kind]),
        weights=weights / weights.sum(),
    )


@dataclass(frozen=True)
class AttributeRows:
    """Attribute rows as parallel indices into the SKUs and the vocabulary."""

    sku: np.ndarray
    name: np.ndarray
    value: np.ndarray  # -1: null (the attribute is removed)

    def select(self, mask: np.ndarray) -> AttributeRows:
        return AttributeRows(self.sku[mask], self.name[mask], self.value[mask])

    @staticmethod
    def concat(parts: Sequence[AttributeRows]) -> AttributeRows:
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return AttributeRows(empty, empty, empty)
        rows = AttributeRows(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in ("sku", "name", "value"))
        )
        order = np.lexsort((rows.name, rows.sku))
        return AttributeRows(rows.sku[order], rows.name[order], rows.value[order])


def _attribute_block(
    rng: np.random.Generator, vocab: AttributeVocabulary, first: int, last: int, total: int
) -> AttributeRows:
    skus = np.arange(first, last)
    hot = len(HOT_ATTRIBUTES)
    counts = rng.poisson(8, len(skus))
    picked_sku = np.repeat(skus, counts)
    picked = rng.choice(vocab.long_tail, size=len(picked_sku), p=vocab.weights)
    guaranteed = np.arange(vocab.long_tail)
    owner = guaranteed % total
    mine = (owner >= first) & (owner < last)
    keys = np.unique(
        np.concatenate(
            [
                picked_sku * vocab.long_tail + picked,
                owner[mine] * vocab.long_tail + guaranteed[mine],
            ]
        )
    )
    sku = np.concatenate([np.repeat(skus, hot), keys // vocab.long_tail])
    name = np.concatenate([np.tile(np.arange(hot), len(skus)), hot + keys % vocab.long_tail])
    value = _attribute_values(rng, vocab, name)
    order = np.lexsort((name, sku))
    return AttributeRows(sku[order], name[order], value[order])


def _attribute_values(
    rng: np.random.Generator, vocab: AttributeVocabulary, name: np.ndarray
) -> np.ndarray:
    first, count = vocab.segments[vocab.kind[name]].T
    values: np.ndarray = first + rng.integers(0, count)
    return values


def attribute_columns(
    t: Tenant, vocab: AttributeVocabulary, rows: AttributeRows, stamp: str
) -> list[pa.Array]:
    """The sku_attributes feed's columns for ``rows``, all stamped ``stamp``."""
    return [
        take(t.skus.codes, rows.sku),
        take(vocab.names, rows.name),
        take(vocab.values, np.maximum(rows.value, 0), rows.value < 0),
        pa.repeat(pa.scalar(stamp), len(rows.sku)),
    ]


def _attribute_changes(
    rng: np.random.Generator,
    vocab: AttributeVocabulary,
    rows: AttributeRows,
    first_file: np.ndarray,
    deltas: int,
) -> tuple[AttributeRows, np.ndarray]:
    """Some values change and a few long-tail attributes are removed, each in a later delta."""
    draw = rng.random(len(rows.sku))
    later = first_file[rows.sku] < deltas - 1
    removed = later & (draw < 0.004) & (rows.name >= len(HOT_ATTRIBUTES))
    changed = later & (draw >= 0.004) & (draw < 0.024)
    chosen = removed | changed
    first, count = vocab.segments[vocab.kind[rows.name[chosen]]].T
    shift = 1 + rng.integers(0, np.maximum(count - 1, 1))
    new_value = first + (rows.value[chosen] - first + shift) % count
    new_value = np.where(removed[chosen], -1, new_value)
    low = first_file[rows.sku[chosen]] + 1
    delta = low + np.floor(rng.random(int(chosen.sum())) * (deltas - low)).astype(np.int64)
    return AttributeRows(rows.sku[chosen], rows.name[chosen], new_value), delta


_ATTRIBUTE_DELTA_STYLES = (
    Style(header="spaced"),
    Style(order=("attribute_name", "sku_code", "updated_at", "attribute_value")),
    Style(crlf=True),
)


def write_attributes(t: Tenant, output: Output) -> None:
    """Write the tenant's sku_attributes files: the full file, then the deltas."""
    cal = t.cal
    rng = t.rng("attributes")
    vocab = attribute_vocabulary(rng)
    deltas = len(cal.delta_days)
    first_file = np.searchsorted(np.array(cal.delta_days), t.skus.known, side="left")
    first_file = np.where(t.skus.known <= cal.full_day, -1, first_file)
    stamp = timestamp(cal, cal.full_day)
    first_row = AttributeRows(np.array([0]), np.array([0]), np.array([0]))
    template = bad_row_template(t, "sku_attributes", attribute_columns(t, vocab, first_row, stamp))
    name = f"sku_attributes_{cal.iso(cal.full_day)}_full"
    sink = open_sink(t, output, "sku_attributes", name, Style(gzip=True, bom=True), template)
    later: list[list[AttributeRows]] = [[] for _ in range(deltas)]
    block = max(1, 200_000 // (len(HOT_ATTRIBUTES) + 10))
    for first in range(0, t.skus.count, block):
        rows = _attribute_block(rng, vocab, first, min(first + block, t.skus.count), t.skus.count)
        sink.write(attribute_columns(t, vocab, rows.select(first_file[rows.sku] == -1), stamp))
        for j in range(deltas):
            later[j].append(rows.select(first_file[rows.sku] == j))
        changes, delta = _attribute_changes(rng, vocab, rows, first_file, deltas)
        for j in range(deltas):
            later[j].append(changes.select(delta == j))
    sink.close()
    for j, day in enumerate(cal.delta_days):
        style = _ATTRIBUTE_DELTA_STYLES[j % len(_ATTRIBUTE_DELTA_STYLES)]
        columns = attribute_columns(
            t, vocab, AttributeRows.concat(later[j]), timestamp(cal, day, style.timestamps)
        )
        name = f"sku_attributes_{cal.iso(day)}"
        write_rows(t, output, "sku_attributes", name, style, columns)
