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
from forecast_hub.api.snapshot import SkuSeries


def merge_series(
    sku_id: str,
    series: SkuSeries,
    edits: Mapping[tuple[str, dt.date], StoredEdit],
    show_manual: bool,
    indexes: range,
) -> list[dict[str, Any]]:
    rows = []
    lower, upper = series.lower_qty, series.upper_qty
    for index in indexes:
        date = series.dates[index]
        draft_qty = series.draft_qty[index]
        edit = edits.get((sku_id, date))
        if edit is not None and not edit.is_removed:
            is_manual = show_manual
            rows.append(
                {
                    "sku_id": sku_id,
                    "forecast_date": date,
                    "draft_qty": draft_qty,
                    "manual_qty": edit.manual_qty,
                    "forecast_qty": edit.manual_qty if is_manual else draft_qty,
                    "is_manual": is_manual,
                    "method": series.method,
                    "edited_by": edit.edited_by,
                    "edited_at": edit.edited_at,
                }
            )
        else:
            rows.append(
                {
                    "sku_id": sku_id,
                    "forecast_date": date,
                    "draft_qty": draft_qty,
                    "manual_qty": None,
                    "forecast_qty": draft_qty,
                    "is_manual": False,
                    "method": series.method,
                    "edited_by": None,
                    "edited_at": None,
                }
            )
        rows[-1]["lower_qty"] = None if lower is None else lower[index]
        rows[-1]["upper_qty"] = None if upper is None else upper[index]
    return rows
