"""Query parameters the page's routes share, declared once (checked in ``validation.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

Limit = Annotated[str | None, Query(description="Rows per page, 1 to 10000 (default 1000).")]
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page.")]
SkuId = Annotated[str | None, Query(description="The SKU.")]
