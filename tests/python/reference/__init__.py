"""An independent implementation of the forecast spec, for cross-checking dbt.

Written from the forecast-methods contract (docs/forecast-methods.md) and
the client feeds' rules with plain Python loops, deliberately unlike the
set-based SQL of the dbt models (no closed forms, no season phases, every
window refitted from scratch): if both agree to 1e-6 on every series, the
draft, its interval and the accuracy are what the contract says.
"""

from reference.backtest import SeriesForecast, Totals, forecast_series, quantile
from reference.forecast import (
    SPEC_DEFAULTS,
    AccuracyRow,
    DraftRow,
    Result,
    RollupRow,
    TenantSettings,
    forecast_all,
)
from reference.load import load_inputs, read_tenant_settings
from reference.methods import METHOD_ORDER, Parameters, method_forecast

__all__ = [
    "METHOD_ORDER",
    "SPEC_DEFAULTS",
    "AccuracyRow",
    "DraftRow",
    "Parameters",
    "Result",
    "RollupRow",
    "SeriesForecast",
    "TenantSettings",
    "Totals",
    "forecast_all",
    "forecast_series",
    "load_inputs",
    "method_forecast",
    "quantile",
    "read_tenant_settings",
]
