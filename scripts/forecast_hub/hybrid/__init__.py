"""The tables people write (edits, preferences, edit log), never built by dbt.

``tables.py`` defines them once; ``ddl.py`` renders them per dialect;
``migrate.py`` applies them forward without losing a row; ``apply.py`` is
`forecast-hub hybrid` on the duckdb target.
"""

from forecast_hub.hybrid.apply import HybridSummary, apply_hybrid, copy_store_to_warehouse
from forecast_hub.hybrid.ddl import write_ddl_files
from forecast_hub.hybrid.store import connect_store, edits_store_path
from forecast_hub.hybrid.tables import SCHEMA, TENANT_DEFAULTS_USER

__all__ = [
    "SCHEMA",
    "TENANT_DEFAULTS_USER",
    "HybridSummary",
    "apply_hybrid",
    "connect_store",
    "copy_store_to_warehouse",
    "edits_store_path",
    "write_ddl_files",
]
