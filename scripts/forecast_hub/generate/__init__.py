"""Realistic, deterministic client feed files for the bronze layer.

``generate_bronze`` writes CSV files for every tenant and every feed of the
client feed contract (``forecast_hub.feeds``)::

    <out>/<tenant_id>/<feed>/<file>.csv      (some files .csv.gz)

and a hidden manifest, ``<out>/.forecast-hub-generate.json``::

    {"config": {...GenerateConfig...},
     "files": [{"path", "tenant_id", "feed", "rows"}, ...],        sorted by path
     "rejected_files": [{"path", "reason"}, ...],                  sorted by path
     "quarantined_rows": [{"path", "line", "column", "rule"}, ...]} sorted by path, line

``rows`` counts the data records written to a file (bad ones included); ``line``
is the physical line where a bad record starts, the header being line 1.

The data
    Sales end on ``HISTORY_END`` and go back ``config.days`` days, with weekly and
    yearly seasonality, a trend per SKU, promotions that lift sales, intermittent
    long-tail SKUs, SKU launches and discontinuations, and locations opening and
    closing; each feed's other files agree with the sales. Every feed starts with
    a full file as of the day before the last ``DAILY_DROP_DAYS`` days; sales then
    arrive as one file per day, the other feeds as a few delta files. Late
    corrections re-send a sales key in a later file with a newer ``updated_at``;
    SKUs, locations, attributes and promotions are re-sent with changes too.
    Headers vary in case, spacing and column order, and some files carry a
    byte-order mark, CRLF line ends, gzip, or quoted fields holding commas,
    quotes and newlines: all of it valid under the contract.

Sizing
    A SKU is carried by part of the locations and sells on part of the days, so
    about ``SALES_DENSITY`` (2%) of all (SKU, location, day) cells hold a sales
    row: sales rows ~ tenants * skus * locations * days * 0.02. For example
    ``--tenants 2 --skus 5000 --locations 100 --days 1100`` gives about 23 million
    rows. Sales are sampled and written in tiles of at most ``TILE_CELLS`` cells,
    so memory stays bounded whatever the size.

Determinism
    The same config gives the same bytes: random numbers come from PCG64 streams
    derived from the seed per tenant and purpose, dates and timestamps derive from
    ``HISTORY_END`` (never the clock), and gzip members carry no time or name.

Dirty mode
    Feeds are spread over the tenants so that each feed has one file with bad
    rows in at least one tenant: about 0.75% of its rows, and at least one of each
    way to break a rule of its feed, so every (feed, rule) pair occurs. Each bad
    row breaks exactly one rule and is added next to a good row (the clean data
    stays complete). Extra files break the file rules (one of each reason), and
    a few files carry extra unknown columns. The manifest records all of it so
    tests can compare what ingestion reports.
"""

from forecast_hub.generate.calendar import HISTORY_END
from forecast_hub.generate.dirty import FILE_REASONS
from forecast_hub.generate.output import (
    MANIFEST_NAME,
    FileRecord,
    GenerateConfig,
    GenerateSummary,
    QuarantinedRow,
    RejectedFile,
)
from forecast_hub.generate.run import generate_bronze
from forecast_hub.generate.tenants import tenant_ids

__all__ = [
    "FILE_REASONS",
    "HISTORY_END",
    "MANIFEST_NAME",
    "FileRecord",
    "GenerateConfig",
    "GenerateSummary",
    "QuarantinedRow",
    "RejectedFile",
    "generate_bronze",
    "tenant_ids",
]
