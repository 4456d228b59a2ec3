"""Great Expectations over silver and gold, run as one checkpoint after dbt build."""

from forecast_hub.quality.checkpoint import QualityResult, run_quality_checkpoint

__all__ = ["QualityResult", "run_quality_checkpoint"]
