"""The merge of the draft with the edits, as the API serves it.

This is the rule of ``models/serving/v_forecast.sql`` and must stay equal
to it: ``tests/python/unit/test_api_merge.py`` runs that model's SQL and
this function on the same random data and compares every row.

- A row exists for every date of the draft; an edit whose date left the
  horizon, or whose SKU has no draft any more, is kept but not shown.
- A removed edit is no edit: the draft shows, with no manual fields.
- ``is_manual`` says ``forecast_qty`` is the planner's value: there is a
  live edit and manual edits are shown.
- Each row carries the draft's prediction interval (``lower_qty``,
  ``upper_qty``) as drafted, edited or not; null where the build has none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from forecast_hub.api.edits import StoredEdit
from forecast_hub.api.tenant_rows import SkuSeries


def merge_series(
    sku_id: str,
    series: SkuSeries,
    edits: Mapping[tuple[str, dt.date], StoredEdit],
    show_manual: bool,
    indexes: range,
) -> list[dict[str, Any]]:
    first, stop = indexes.start, indexes.stop
    dates = series.dates[first:stop]
    method = series.method
    rows = [
        {
            "sku_id": sku_id,
            "forecast_date": date,
            "draft_qty": draft_qty,
            "manual_qty": None,
            "forecast_qty": draft_qty,
            "is_manual": False,
            "method": method,
            "edited_by": None,
            "edited_at": None,
        }
        for date, draft_qty in zip(dates, series.draft_qty[first:stop], strict=True)
    ]
    if edits:
        for row, date in zip(rows, dates, strict=True):
            edit = edits.get((sku_id, date))
            if edit is not None and not edit.is_removed:
                row["manual_qty"] = edit.manual_qty
                if show_manual:
                    row["forecast_qty"] = edit.manual_qty
                row["is_manual"] = show_manual
                row["edited_by"] = edit.edited_by
                row["edited_at"] = edit.edited_at
    lower, upper = series.lower_qty, series.upper_qty
    if lower is not None and upper is not None:
        for row, low, high in zip(rows, lower[first:stop], upper[first:stop], strict=True):
            row["lower_qty"] = low
            row["upper_qty"] = high
    else:
        for row in rows:
            row["lower_qty"] = row["upper_qty"] = None
    return rows
