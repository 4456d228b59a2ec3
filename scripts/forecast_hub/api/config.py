"""Where the API's files live and its limits, from the one settings object."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from forecast_hub.api.cache import MIB, CacheConfig
from forecast_hub.errors import UserError
from forecast_hub.hybrid.store import edits_store_path
from forecast_hub.settings import EditsDurability, Settings, WarehouseTarget

if TYPE_CHECKING:
    from forecast_hub.snowflake.settings import SnowflakeSettings

MAX_EDITS_PER_REQUEST = 10_000
# 10,000 edits with 500-character reasons fit with room to spare; anything
# bigger is refused before it is read.
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_PAGE_ROWS = 10_000
DEFAULT_PAGE_ROWS = 1_000


def serving_dir(settings: Settings) -> Path:
    """Published drafts: one read-only folder per build, and the CURRENT pointer."""
    return settings.data_dir / "serving"


def cache_dir(settings: Settings) -> Path:
    """The forecast cache's local copy of the served build (rebuilt from serving/)."""
    return settings.data_dir / "cache"


@dataclass(frozen=True)
class ApiConfig:
    """What the API serves and where from.

    ``target`` duckdb serves the published draft merged with the edits store
    (``edits_store_url`` sqlite: the embedded file ``edits_store``; else a
    PostgreSQL URL); emulator and snowflake read ``serving.v_forecast`` and
    write the planning tables of the warehouse ``snowflake`` connects to.
    """

    edits_store: Path
    serving_dir: Path
    tokens_file: Path
    max_body_bytes: int = MAX_BODY_BYTES
    max_edits: int = MAX_EDITS_PER_REQUEST
    snapshot_poll_seconds: float = 0.5
    object_store: str | None = None
    """s3://bucket/prefix: drafts are fetched from there, edits persisted there."""
    durability: EditsDurability = "local"
    persist_every_writes: int = 10
    persist_every_seconds: float = 300.0
    sync_uploads_in_flight: int = 1
    bucket_poll_seconds: float = 3600.0
    """How often a newer build is looked for in the object store."""
    target: WarehouseTarget = "duckdb"
    edits_store_url: str = "sqlite"
    snowflake: SnowflakeSettings | None = None
    # None: a cache folder beside serving/, with the default budget and mode.
    cache_config: CacheConfig | None = field(default=None)

    @property
    def cache(self) -> CacheConfig:
        return self.cache_config or CacheConfig(copy_dir=self.serving_dir.parent / "cache")

    @classmethod
    def from_settings(cls, settings: Settings, target: WarehouseTarget = "duckdb") -> ApiConfig:
        """The API over the settings' data folder; on emulator|snowflake, over the warehouse."""
        snowflake = None
        if target == "postgres":
            raise UserError(
                "serve has no postgres target: serve --target duckdb with"
                " FORECAST_HUB_EDITS_STORE=postgresql://... keeps the edits in PostgreSQL"
            )
        if target != "duckdb":
            from forecast_hub.snowflake.settings import SnowflakeSettings

            snowflake = SnowflakeSettings.from_env(target, settings=settings)
        return cls(
            edits_store=edits_store_path(settings),
            serving_dir=serving_dir(settings),
            tokens_file=settings.tokens_file,
            object_store=settings.object_store,
            durability=settings.durability,
            persist_every_writes=settings.persist_every_writes,
            persist_every_seconds=settings.persist_every_seconds,
            sync_uploads_in_flight=settings.sync_uploads_in_flight,
            bucket_poll_seconds=settings.cache_reload_seconds,
            target=target,
            edits_store_url=settings.edits_store,
            snowflake=snowflake,
            cache_config=CacheConfig(
                copy_dir=cache_dir(settings),
                max_bytes=settings.cache_max_mb * MIB,
                mode=settings.cache_mode,
                reload_seconds=settings.cache_reload_seconds,
            ),
        )
