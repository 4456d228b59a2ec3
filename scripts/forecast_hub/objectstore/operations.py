"""The persistence's front door: which one the settings ask for, and `edits persist`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from forecast_hub.api.persistence import StorageUnavailable
from forecast_hub.errors import UserError
from forecast_hub.hybrid.store import edits_store_path
from forecast_hub.objectstore.client import ObjectStore, ObjectStoreError
from forecast_hub.objectstore.persistence import EditsPersistence, Mode
from forecast_hub.settings import Settings


@dataclass(frozen=True)
class PersistReport:
    """What one persist uploaded."""

    change_seq: int | None
    writes: int
    snapshot_seq: int | None
    snapshot_bytes: int
    removed: int

    def one_line(self, where: str) -> str:
        parts = []
        if self.change_seq is not None:
            parts.append(f"change {self.change_seq} ({self.writes} writes)")
        if self.snapshot_seq is not None:
            parts.append(
                f"a snapshot of change {self.snapshot_seq} ({self.snapshot_bytes / 1e6:.1f} MB),"
                f" removing {self.removed} change objects it covers"
            )
        return f"uploaded {' and '.join(parts) or 'nothing: all persisted'} to {where}"


def edits_persistence(
    object_store: str | None,
    durability: str,
    path: Path,
    every_writes: int = 10,
    every_seconds: float = 300.0,
    uploads_in_flight: int = 1,
) -> EditsPersistence | None:
    """The persistence asked for: None for local durability or without an object store."""
    if object_store is None or durability not in ("sync", "async"):
        return None
    mode: Mode = "sync" if durability == "sync" else "async"
    return EditsPersistence(
        ObjectStore(object_store),
        path,
        mode,
        every_writes,
        every_seconds,
        uploads_in_flight=uploads_in_flight,
    )


def persist_edits_store(settings: Settings) -> str:
    """`forecast-hub edits persist`: one line saying what was uploaded; UserError if it
    cannot be (no object store, no store, unreachable, overtaken)."""
    path = edits_store_path(settings)
    if settings.object_store is None:
        raise UserError("FORECAST_HUB_OBJECT_STORE is not set: there is nowhere to persist to")
    if not path.exists():
        raise UserError(f"there is no edits store at {path} yet: nothing to persist")
    mode: Mode = "async" if settings.durability == "async" else "sync"
    persistence = EditsPersistence(ObjectStore(settings.object_store), path, mode)
    try:
        return persistence.persist_now().one_line(settings.object_store)
    except (ObjectStoreError, StorageUnavailable) as error:
        raise UserError(f"could not persist the edits store: {error}") from error
    finally:
        persistence._close_conn()
