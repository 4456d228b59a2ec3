"""Bronze to silver: typed, partitioned Parquet with lineage; bad input quarantined."""

from forecast_hub.ingest.report import FileReport, IngestReport
from forecast_hub.ingest.run import IngestPaths, ingest_bronze

__all__ = ["FileReport", "IngestPaths", "IngestReport", "ingest_bronze"]
