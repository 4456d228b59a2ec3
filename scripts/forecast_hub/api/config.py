"""Where the API's files live and its limits, from the one settings object."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from forecast_hub.api.cache import MIB, CacheConfig
from forecast_hub.hybrid.store import edits_store_path
from forecast_hub.settings import Settings

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
    edits_store: Path
    serving_dir: Path
    tokens_file: Path
    max_body_bytes: int = MAX_BODY_BYTES
    max_edits: int = MAX_EDITS_PER_REQUEST
    snapshot_poll_seconds: float = 0.5
    # None: a cache folder beside serving/, with the default budget and mode.
    cache_config: CacheConfig | None = field(default=None)

    @property
    def cache(self) -> CacheConfig:
        return self.cache_config or CacheConfig(copy_dir=self.serving_dir.parent / "cache")

    @classmethod
    def from_settings(cls, settings: Settings) -> ApiConfig:
        return cls(
            edits_store=edits_store_path(settings),
            serving_dir=serving_dir(settings),
            tokens_file=settings.tokens_file,
            cache_config=CacheConfig(
                copy_dir=cache_dir(settings),
                max_bytes=settings.cache_max_mb * MIB,
                mode=settings.cache_mode,
                reload_seconds=settings.cache_reload_seconds,
            ),
        )
