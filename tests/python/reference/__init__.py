"""An independent implementation of the forecast spec, for cross-checking dbt.

Written from shared/spec/forecast-methods.md and client-feeds.md with plain
Python loops, deliberately unlike the set-based SQL of the dbt models (no
closed forms, no season phases): if both agree to 1e-6 on every series, the
draft and the backtest are what the spec says.
"""

from reference.forecast import (
    METHOD_ORDER,
    SPEC_DEFAULTS,
    AccuracyRow,
    DraftRow,
    Parameters,
    Result,
    TenantSettings,
    forecast_all,
    method_forecast,
)
from reference.load import load_inputs, read_tenant_settings

__all__ = [
    "METHOD_ORDER",
    "SPEC_DEFAULTS",
    "AccuracyRow",
    "DraftRow",
    "Parameters",
    "Result",
    "TenantSettings",
    "forecast_all",
    "load_inputs",
    "method_forecast",
    "read_tenant_settings",
]
