"""The locations feed: a full file, then deltas: new, renamed and closed locations, new regions.

In dirty mode the full file carries an extra unknown column, ``store_cluster``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from forecast_hub.generate.calendar import between, changed, date_strings, delta_windows, timestamp
from forecast_hub.generate.output import Output
from forecast_hub.generate.sink import Style, bad_row_template, write_rows
from forecast_hub.generate.tenants import Tenant
from forecast_hub.generate.vocabulary import CLUSTERS, REGION_CHANGES, REGIONS, take


def location_columns(
    t: Tenant, idx: np.ndarray, as_of: int, region: np.ndarray, renamed: np.ndarray, stamp: str
) -> list[pa.Array]:
    """The locations feed's columns for rows ``idx`` as of day ``as_of``."""
    loc, cal = t.locations, t.cal
    closed = loc.closed[idx] <= as_of
    return [
        take(loc.codes, idx),
        pc.binary_join_element_wise(
            take(loc.names, idx), take(pa.array(("", " (relocated)")), renamed[idx]), ""
        ),
        take(pa.array(REGIONS + REGION_CHANGES), region[idx]),
        take(pa.array(t.profile.countries), loc.country[idx]),
        take(loc.kind_text, idx),
        date_strings(cal, loc.opened[idx], loc.opened_null[idx]),
        date_strings(cal, np.where(closed, loc.closed[idx], 0), ~closed),
        pa.repeat(pa.scalar(stamp), len(idx)),
    ]


_LOCATION_FULL_ORDER = (
    "location_code", "location_type", "location_name", "country", "region", "opened_on",
    "closed_on", "updated_at",
)  # fmt: skip
_LOCATION_DELTA_STYLES = (
    Style(padded=("region", "location_type")),
    Style(crlf=True, timestamps="naive"),
    Style(header="spaced"),
)


def write_locations(t: Tenant, output: Output) -> None:
    """Write the tenant's locations files: the full file, then the deltas."""
    loc, cal = t.locations, t.cal
    rng = t.rng("locations")
    region, renamed = loc.region.copy(), np.zeros(loc.count, dtype=np.int64)
    stamp = timestamp(cal, cal.full_day)
    extra = ("store_cluster",) if t.dirty else ()
    clusters = pa.array(CLUSTERS)

    def columns_for(
        idx: np.ndarray, as_of: int, stamp: str, extras: tuple[str, ...]
    ) -> list[pa.Array]:
        columns = location_columns(t, idx, as_of, region, renamed, stamp)
        return columns + [take(clusters, loc.cluster[idx]) for _ in extras]

    full = np.nonzero(loc.known <= cal.full_day)[0]
    style = Style(order=_LOCATION_FULL_ORDER + extra, extra=extra)
    template = bad_row_template(
        t, "locations", columns_for(np.array([0]), cal.full_day, stamp, extra)
    )
    columns = columns_for(full, cal.full_day, stamp, extra)
    name = f"locations_{cal.iso(cal.full_day)}_full"
    write_rows(t, output, "locations", name, style, columns, template)
    for j, (previous, day) in enumerate(delta_windows(cal)):
        changes = changed(rng, loc.known <= previous, 0.05)
        renamed[changes[::2]] = 1
        region[changes[1::2]] = len(REGIONS) + rng.integers(
            0, len(REGION_CHANGES), len(changes[1::2])
        )
        closing = between(loc.closed, previous, day) & (loc.known <= previous)
        idx = np.union1d(np.nonzero(between(loc.known, previous, day) | closing)[0], changes)
        style = _LOCATION_DELTA_STYLES[j % len(_LOCATION_DELTA_STYLES)]
        columns = columns_for(idx, day, timestamp(cal, day, style.timestamps), ())
        write_rows(t, output, "locations", f"locations_{cal.iso(day)}", style, columns)
