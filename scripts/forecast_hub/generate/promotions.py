"""The promotions feed: a full file, then deltas with new and extended promotions."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from forecast_hub.generate.calendar import between, date_strings, delta_windows, timestamp
from forecast_hub.generate.output import Output
from forecast_hub.generate.sink import Style, bad_row_template, write_rows
from forecast_hub.generate.tenants import Tenant
from forecast_hub.generate.vocabulary import PROMO_TYPES, take


def _promotion_columns(t: Tenant, idx: np.ndarray, end: np.ndarray, stamp: str) -> list[pa.Array]:
    p, cal = t.promotions, t.cal
    discount = p.discount[idx]
    unset = np.isnan(discount)
    cents = np.rint(np.nan_to_num(discount) * 10).astype(np.int64)
    whole = pc.cast(pa.array(cents // 10), pa.string())
    tenths = pc.binary_join_element_wise(whole, pc.cast(pa.array(cents % 10), pa.string()), ".")
    text = pc.if_else(pa.array(cents % 10 != 0), tenths, whole)
    local = p.location[idx]
    return [
        take(p.ids, idx),
        take(t.skus.codes, p.sku[idx]),
        take(t.locations.codes, np.maximum(local, 0), local < 0),
        date_strings(cal, p.start[idx]),
        date_strings(cal, end[idx]),
        take(pa.array(PROMO_TYPES), p.kind[idx]),
        pc.if_else(pa.array(unset), pa.scalar(None, pa.string()), text),
        pa.repeat(pa.scalar(stamp), len(idx)),
    ]


_PROMOTION_DELTA_STYLES = (Style(crlf=True, header="upper"), Style(gzip=True), Style())


def write_promotions(t: Tenant, output: Output) -> None:
    """Write the tenant's promotions files: the full file, then the deltas."""
    p, cal = t.promotions, t.cal
    end = p.end.copy()
    stamp = timestamp(cal, cal.full_day)
    template = bad_row_template(t, "promotions", _promotion_columns(t, np.array([0]), end, stamp))
    full = np.nonzero(p.known <= cal.full_day)[0]
    columns = _promotion_columns(t, full, end, stamp)
    name = f"promotions_{cal.iso(cal.full_day)}_full"
    write_rows(t, output, "promotions", name, Style(), columns, template)
    for j, (previous, day) in enumerate(delta_windows(cal)):
        extended = (p.final_end != end) & (p.known <= previous) & (p.start <= day)
        end[extended] = p.final_end[extended]
        idx = np.union1d(np.nonzero(between(p.known, previous, day))[0], np.nonzero(extended)[0])
        style = _PROMOTION_DELTA_STYLES[j % len(_PROMOTION_DELTA_STYLES)]
        columns = _promotion_columns(t, idx, end, timestamp(cal, day, style.timestamps))
        write_rows(t, output, "promotions", f"promotions_{cal.iso(day)}", style, columns)
