"""The postgres target: a local PostgreSQL 15 server, landing and the planning tables.

``server`` runs the server (tuned as ``tuning`` says) under the data folder;
``settings`` reads where the database is from the environment, as dbt's
profile does; ``land`` loads silver Parquet into the raw tables through COPY;
``hybrid`` applies the planning tables.
"""

from forecast_hub.postgres.settings import PostgresSettings

__all__ = ["PostgresSettings"]
