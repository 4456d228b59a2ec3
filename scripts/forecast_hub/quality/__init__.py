"""Great Expectations over silver and gold, run as one checkpoint after dbt build."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forecast_hub.quality.checkpoint import QualityResult, run_quality_checkpoint

__all__ = ["QualityResult", "run_quality_checkpoint"]


def __getattr__(name: str) -> Any:
    """Great Expectations takes seconds to import: only running a checkpoint loads it."""
    if name in __all__:
        from forecast_hub.quality import checkpoint

        return getattr(checkpoint, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
