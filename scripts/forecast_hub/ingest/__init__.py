"""Bronze to silver: typed, partitioned Parquet with lineage; bad input quarantined."""

from forecast_hub.ingest.run import FileReport, IngestPaths, IngestReport, ingest_bronze

__all__ = ["FileReport", "IngestPaths", "IngestReport", "ingest_bronze"]
