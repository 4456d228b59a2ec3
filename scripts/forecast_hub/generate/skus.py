"""The skus feed: a full file, then deltas with new, renamed, re-packed and ended SKUs."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from forecast_hub.generate.calendar import between, changed, date_strings, delta_windows, timestamp
from forecast_hub.generate.output import Output
from forecast_hub.generate.sink import Style, bad_row_template, write_rows
from forecast_hub.generate.tenants import Tenant
from forecast_hub.generate.vocabulary import (
    ACTIVE_FALSE,
    ACTIVE_TRUE,
    BRANDS,
    CATEGORIES,
    NAME_SUFFIXES,
    SUBCATEGORIES,
    UNITS,
    take,
)


def sku_columns(
    t: Tenant, idx: np.ndarray, as_of: int, pack: np.ndarray, renamed: np.ndarray, stamp: str
) -> list[pa.Array]:
    """The skus feed's columns for rows ``idx`` as of day ``as_of``."""
    s, cal = t.skus, t.cal
    gone = s.discontinued[idx] <= as_of
    active_pool = pa.array(ACTIVE_TRUE + ACTIVE_FALSE)
    active = s.active_text[idx] + np.where(gone, len(ACTIVE_TRUE), 0)
    return [
        take(s.codes, idx),
        pc.binary_join_element_wise(
            take(s.base_names, idx), take(pa.array(NAME_SUFFIXES), renamed[idx]), ""
        ),
        take(pa.array(CATEGORIES), s.category[idx]),
        take(pa.array([x for subs in SUBCATEGORIES for x in subs]), s.subcategory[idx]),
        take(pa.array(BRANDS), np.maximum(s.brand[idx], 0), s.brand[idx] < 0),
        take(pa.array(UNITS), np.maximum(s.unit[idx], 0), s.unit[idx] < 0),
        pc.cast(pa.array(pack[idx], mask=pack[idx] == 0), pa.string()),
        take(active_pool, active),
        date_strings(cal, s.launch[idx], s.launch_null[idx]),
        date_strings(cal, np.where(gone, s.discontinued[idx], 0), ~gone),
        pa.repeat(pa.scalar(stamp), len(idx)),
    ]


_SKU_ORDER = (
    "updated_at", "sku_code", "category", "subcategory", "sku_name", "brand", "pack_size",
    "unit_of_measure", "launched_on", "discontinued_on", "is_active",
)  # fmt: skip
_SKU_DELTA_STYLES = (
    Style(bom=True, crlf=True),
    Style(header="upper", timestamps="offset"),
    Style(order=_SKU_ORDER),
)


def write_skus(t: Tenant, output: Output) -> None:
    """Write the tenant's skus files: the full file, then the deltas."""
    s, cal = t.skus, t.cal
    rng = t.rng("skus")
    pack, renamed = s.pack.copy(), np.zeros(s.count, dtype=np.int64)
    stamp = timestamp(cal, cal.full_day)
    template = bad_row_template(t, "skus", sku_columns(t, np.array([0]), 0, pack, renamed, stamp))
    full = np.nonzero(s.known <= cal.full_day)[0]
    columns = sku_columns(t, full, cal.full_day, pack, renamed, stamp)
    write_rows(t, output, "skus", f"skus_{cal.iso(cal.full_day)}_full", Style(), columns, template)
    for j, (previous, day) in enumerate(delta_windows(cal)):
        changes = changed(rng, s.known <= previous, 0.01)
        renamed[changes[::2]] = 1
        pack[changes[1::2]] = np.where(pack[changes[1::2]] == 12, 6, 12)
        ended = between(s.discontinued, previous, day) & (s.known <= previous)
        idx = np.union1d(np.nonzero(between(s.known, previous, day) | ended)[0], changes)
        style = _SKU_DELTA_STYLES[j % len(_SKU_DELTA_STYLES)]
        columns = sku_columns(t, idx, day, pack, renamed, timestamp(cal, day, style.timestamps))
        write_rows(t, output, "skus", f"skus_{cal.iso(day)}", style, columns)
