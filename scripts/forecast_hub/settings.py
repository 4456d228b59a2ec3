"""The one settings object: every ``FORECAST_HUB_*`` variable is read and checked here.

``Settings.from_env()`` reads each variable once, whatever the command, so
a bad value fails before any work starts, with one line that names the
variable and the values it accepts (``SettingsError``, shown by the CLI
without a traceback). An empty value is the same as an unset one. Paths
default under ./data. The committed ``.env.example`` lists every variable
with its default; a unit test keeps the two equal.

Secrets are not settings: the Snowflake credentials (``SNOWFLAKE_*``) are
read from the environment by ``forecast_hub.snowflake.settings`` only, and
cloud credentials by the cloud's own client.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

from forecast_hub.errors import UserError

WarehouseTarget = Literal["duckdb", "emulator", "snowflake", "postgres"]
HybridTableKind = Literal["hybrid", "standard"]
EditsDurability = Literal["sync", "async", "local"]
CacheMode = Literal["auto", "preload", "on_demand"]

DATA_DIR_ENV = "FORECAST_HUB_DATA_DIR"
TARGET_ENV = "FORECAST_HUB_TARGET"
API_HOST_ENV = "FORECAST_HUB_API_HOST"
API_PORT_ENV = "FORECAST_HUB_API_PORT"
API_TOKENS_FILE_ENV = "FORECAST_HUB_API_TOKENS_FILE"
EMULATOR_PORT_ENV = "FORECAST_HUB_EMULATOR_PORT"
HYBRID_TABLES_ENV = "FORECAST_HUB_HYBRID_TABLES"
ACCOUNT_ONLY_DDL_ENV = "FORECAST_HUB_SNOWFLAKE_ACCOUNT_ONLY_DDL"
EDITS_STORE_ENV = "FORECAST_HUB_EDITS_STORE"
OBJECT_STORE_ENV = "FORECAST_HUB_OBJECT_STORE"
EDITS_DURABILITY_ENV = "FORECAST_HUB_EDITS_DURABILITY"
PERSIST_EVERY_WRITES_ENV = "FORECAST_HUB_PERSIST_EVERY_WRITES"
PERSIST_EVERY_SECONDS_ENV = "FORECAST_HUB_PERSIST_EVERY_SECONDS"
SYNC_UPLOADS_ENV = "FORECAST_HUB_SYNC_UPLOADS_IN_FLIGHT"
CACHE_MAX_MB_ENV = "FORECAST_HUB_CACHE_MAX_MB"
CACHE_RELOAD_SECONDS_ENV = "FORECAST_HUB_CACHE_RELOAD_SECONDS"
CACHE_MODE_ENV = "FORECAST_HUB_CACHE_MODE"
POSTGRES_HOST_ENV = "FORECAST_HUB_POSTGRES_HOST"
POSTGRES_PORT_ENV = "FORECAST_HUB_POSTGRES_PORT"
POSTGRES_USER_ENV = "FORECAST_HUB_POSTGRES_USER"
POSTGRES_PASSWORD_ENV = "FORECAST_HUB_POSTGRES_PASSWORD"
POSTGRES_DATABASE_ENV = "FORECAST_HUB_POSTGRES_DATABASE"
DUCKDB_MEMORY_LIMIT_ENV = "FORECAST_HUB_DUCKDB_MEMORY_LIMIT"
DUCKDB_TEMP_DIR_ENV = "FORECAST_HUB_DUCKDB_TEMP_DIR"

WAREHOUSE_TARGETS: tuple[WarehouseTarget, ...] = ("duckdb", "emulator", "snowflake", "postgres")
HYBRID_TABLE_KINDS: tuple[HybridTableKind, ...] = ("hybrid", "standard")
EDITS_DURABILITIES: tuple[EditsDurability, ...] = ("sync", "async", "local")
CACHE_MODES: tuple[CacheMode, ...] = ("auto", "preload", "on_demand")
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")
_S3_URL = re.compile(r"s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?")
_POSTGRES_URL = re.compile(r"postgres(ql)?://.*")
# A size as DuckDB's memory_limit takes it: a whole number and a unit.
_MEMORY_SIZE = re.compile(r"([0-9]{1,9})\s*(KB|MB|GB|TB|KIB|MIB|GIB|TIB)", re.IGNORECASE)
_MEMORY_UNITS = {
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "KIB": 2**10,
    "MIB": 2**20,
    "GIB": 2**30,
    "TIB": 2**40,
}
# Below this DuckDB cannot hold even one batch of a scan per thread.
_MIN_MEMORY_LIMIT = 128 * 10**6

Choice = TypeVar("Choice", bound=str)


class SettingsError(UserError):
    """A variable with a value it does not accept; the message says which values it does."""


@dataclass(frozen=True)
class Settings:
    """Every setting a user may change; ``from_env`` reads them, the defaults are here."""

    data_dir: Path = Path("data")
    """FORECAST_HUB_DATA_DIR: the data folder; read by every command, the API and dbt."""

    target: WarehouseTarget = "duckdb"
    """FORECAST_HUB_TARGET: the warehouse of `land` and `quality` when --target is not
    given, and of `snowflake apply-ddl` when it is emulator or snowflake (dbt takes
    its own --target)."""

    api_host: str = "127.0.0.1"
    """FORECAST_HUB_API_HOST: the interface `serve` listens on without --host."""

    api_port: int = 8000
    """FORECAST_HUB_API_PORT: the port `serve` listens on without --port."""

    api_tokens_file: Path | None = None
    """FORECAST_HUB_API_TOKENS_FILE: the API's token hashes, read by `serve` and written
    by `token add`; None is <data_dir>/api/tokens.json (see ``tokens_file``)."""

    emulator_port: int | None = None
    """FORECAST_HUB_EMULATOR_PORT: the running Snowflake emulator's port, read by the
    emulator target; None is the port `emulator start` recorded in the data folder.
    dbt's emulator profile reads the same variable."""

    hybrid_tables: HybridTableKind | None = None
    """FORECAST_HUB_HYBRID_TABLES: the DDL of the tables people write on Snowflake,
    read by the emulator and snowflake targets; None is standard on the emulator and
    hybrid on an account."""

    snowflake_account_only_ddl: bool | None = None
    """FORECAST_HUB_SNOWFLAKE_ACCOUNT_ONLY_DDL: whether to run the statements only an
    account can (pipes, policies, grants), read by the emulator and snowflake targets;
    None is false on the emulator and true on an account."""

    edits_store: str = field(default="sqlite", repr=False)
    """FORECAST_HUB_EDITS_STORE: sqlite (the embedded store) or a postgresql:// URL.
    Validated here; no command reads it yet (the API serves the embedded store). Not in
    the repr: a URL may carry a password."""

    object_store: str | None = None
    """FORECAST_HUB_OBJECT_STORE: s3://bucket/prefix to publish drafts to and persist
    the embedded edits store in; None is local disk only. Read by the publishing model,
    `serve` and `edits persist`."""

    edits_durability: EditsDurability | None = None
    """FORECAST_HUB_EDITS_DURABILITY: when an edit is acknowledged (sync: once in object
    storage; async: persisted in batches; local: fsync to local disk); None is sync
    with an object store, local without (see ``durability``). Read by `serve` and
    `edits persist`."""

    persist_every_writes: int = 10
    """FORECAST_HUB_PERSIST_EVERY_WRITES: async durability persists after this many
    writes. Read by `serve`."""

    persist_every_seconds: float = 300.0
    """FORECAST_HUB_PERSIST_EVERY_SECONDS: async durability persists after this many
    seconds. Read by `serve`."""

    sync_uploads_in_flight: int = 1
    """FORECAST_HUB_SYNC_UPLOADS_IN_FLIGHT: sync durability uploads up to this many
    batches' change objects at once, the next batches applied while the first uploads.
    Read by `serve`."""

    cache_max_mb: int = 512
    """FORECAST_HUB_CACHE_MAX_MB: the memory the API's forecast cache may use, read by
    `serve`."""

    cache_reload_seconds: float = 3600.0
    """FORECAST_HUB_CACHE_RELOAD_SECONDS: how often the cache looks for a newer build
    besides being told by a publish (it also drops the periods passed since), read by
    `serve`."""

    cache_mode: CacheMode = "auto"
    """FORECAST_HUB_CACHE_MODE: preload (the whole draft), on_demand (tenants loaded
    when asked for, least recently used evicted) or auto (preload when the draft fits
    in FORECAST_HUB_CACHE_MAX_MB), read by `serve`."""

    postgres_host: str | None = None
    """FORECAST_HUB_POSTGRES_HOST: the postgres target's server, read by `land`,
    `hybrid` and dbt's postgres profile; None is the server `postgres start` runs for
    the data folder, else 127.0.0.1."""

    postgres_port: int | None = None
    """FORECAST_HUB_POSTGRES_PORT: its port; None as for the host, else 5432."""

    postgres_user: str | None = None
    """FORECAST_HUB_POSTGRES_USER: who connects; None is forecast_hub."""

    postgres_password: str | None = field(default=None, repr=False)
    """FORECAST_HUB_POSTGRES_PASSWORD: that user's password (a secret: never shown);
    None is the one `postgres start` kept beside its cluster, or none."""

    postgres_database: str | None = None
    """FORECAST_HUB_POSTGRES_DATABASE: the database; None is forecast_hub."""
    duckdb_memory_limit: str = "3GB"
    """FORECAST_HUB_DUCKDB_MEMORY_LIMIT: the memory each DuckDB of the pipeline may use
    (ingest, land, hybrid, dbt build, quality), as DuckDB's memory_limit takes it
    (e.g. 8GB, 512MB, 4GiB); past it a step spills to FORECAST_HUB_DUCKDB_TEMP_DIR
    instead of failing. dbt's duckdb profile reads the same variable."""

    duckdb_temp_dir: Path | None = None
    """FORECAST_HUB_DUCKDB_TEMP_DIR: where DuckDB spills what exceeds its memory limit;
    None is <data_dir>/spill (see ``duckdb_spill_dir``). dbt's duckdb profile reads the
    same variable."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings of ``env`` (default: the process environment); SettingsError if bad."""
        values = os.environ if env is None else env
        object_store = _object_store(values)
        return cls(
            data_dir=_path(values, DATA_DIR_ENV) or cls.data_dir,
            target=_choice(values, TARGET_ENV, WAREHOUSE_TARGETS) or cls.target,
            api_host=_text(values, API_HOST_ENV) or cls.api_host,
            api_port=_port(values, API_PORT_ENV) or cls.api_port,
            api_tokens_file=_path(values, API_TOKENS_FILE_ENV),
            emulator_port=_port(values, EMULATOR_PORT_ENV),
            hybrid_tables=_choice(values, HYBRID_TABLES_ENV, HYBRID_TABLE_KINDS),
            snowflake_account_only_ddl=_flag(values, ACCOUNT_ONLY_DDL_ENV),
            edits_store=_edits_store(values) or cls.edits_store,
            object_store=object_store,
            edits_durability=_durability(values, object_store),
            persist_every_writes=_count(values, PERSIST_EVERY_WRITES_ENV)
            or cls.persist_every_writes,
            persist_every_seconds=_seconds(values, PERSIST_EVERY_SECONDS_ENV)
            or cls.persist_every_seconds,
            sync_uploads_in_flight=_count(values, SYNC_UPLOADS_ENV) or cls.sync_uploads_in_flight,
            cache_max_mb=_count(values, CACHE_MAX_MB_ENV) or cls.cache_max_mb,
            cache_reload_seconds=_seconds(values, CACHE_RELOAD_SECONDS_ENV)
            or cls.cache_reload_seconds,
            cache_mode=_choice(values, CACHE_MODE_ENV, CACHE_MODES) or cls.cache_mode,
            postgres_host=_text(values, POSTGRES_HOST_ENV),
            postgres_port=_port(values, POSTGRES_PORT_ENV),
            postgres_user=_text(values, POSTGRES_USER_ENV),
            postgres_password=_text(values, POSTGRES_PASSWORD_ENV),
            postgres_database=_text(values, POSTGRES_DATABASE_ENV),
            duckdb_memory_limit=_memory_size(values, DUCKDB_MEMORY_LIMIT_ENV)
            or cls.duckdb_memory_limit,
            duckdb_temp_dir=_path(values, DUCKDB_TEMP_DIR_ENV),
        )

    @property
    def tokens_file(self) -> Path:
        """The API's tokens file: FORECAST_HUB_API_TOKENS_FILE, else under the data folder."""
        return self.api_tokens_file or self.data_dir / "api" / "tokens.json"

    @property
    def durability(self) -> EditsDurability:
        """The durability in effect: the one set, else sync with an object store, else local."""
        if self.edits_durability is not None:
            return self.edits_durability
        return "sync" if self.object_store else "local"

    @property
    def duckdb_spill_dir(self) -> Path:
        """DuckDB's spill folder: FORECAST_HUB_DUCKDB_TEMP_DIR, else <data_dir>/spill."""
        return self.duckdb_temp_dir or self.data_dir / "spill"

    @property
    def duckdb_memory_bytes(self) -> int:
        """FORECAST_HUB_DUCKDB_MEMORY_LIMIT in bytes."""
        return memory_bytes(self.duckdb_memory_limit)

    @property
    def bronze_dir(self) -> Path:
        return self.data_dir / "bronze"

    @property
    def silver_dir(self) -> Path:
        return self.data_dir / "silver"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def warehouse_dir(self) -> Path:
        return self.data_dir / "warehouse"

    @property
    def warehouse_path(self) -> Path:
        """The DuckDB file dbt builds into and `land` loads raw tables into."""
        return self.warehouse_dir / "forecast_hub.duckdb"

    @property
    def manifest_path(self) -> Path:
        """Ingestion manifest: which bronze bytes have been ingested, and how."""
        return self.silver_dir / "_manifest.sqlite"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"


def _raw(env: Mapping[str, str], name: str) -> str | None:
    """The variable's value, None where it is unset or empty."""
    value = env.get(name)
    return value if value and value.strip() else None


def _bad(name: str, accepted: str, value: str) -> SettingsError:
    return SettingsError(f"{name} must be {accepted}, not {value!r}")


def _one_of(choices: tuple[str, ...]) -> str:
    return ", ".join(choices[:-1]) + " or " + choices[-1]


def _text(env: Mapping[str, str], name: str) -> str | None:
    value = _raw(env, name)
    return None if value is None else value.strip()


def _path(env: Mapping[str, str], name: str) -> Path | None:
    value = _raw(env, name)
    return None if value is None else Path(value)


def _choice(env: Mapping[str, str], name: str, choices: tuple[Choice, ...]) -> Choice | None:
    value = _text(env, name)
    if value is None:
        return None
    for choice in choices:
        if value == choice:
            return choice
    raise _bad(name, _one_of(choices), value)


def _flag(env: Mapping[str, str], name: str) -> bool | None:
    value = _text(env, name)
    if value is None:
        return None
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise _bad(name, "true or false", value)


def _integer(env: Mapping[str, str], name: str, low: int, high: int, accepted: str) -> int | None:
    value = _text(env, name)
    if value is None:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 18) or not (
        low <= int(value) <= high
    ):
        raise _bad(name, accepted, value)
    return int(value)


def _port(env: Mapping[str, str], name: str) -> int | None:
    return _integer(env, name, 1, 65_535, "a port number from 1 to 65535")


def _count(env: Mapping[str, str], name: str) -> int | None:
    return _integer(env, name, 1, 10**12, "a whole number of at least 1")


def _seconds(env: Mapping[str, str], name: str) -> float | None:
    value = _text(env, name)
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise _bad(name, "a number of seconds above 0", value)
    return seconds


def memory_bytes(size: str) -> int:
    """A size such as 8GB or 512MiB in bytes; ValueError for any other text."""
    match = _MEMORY_SIZE.fullmatch(size.strip())
    if match is None:
        raise ValueError(f"not a memory size: {size!r}")
    return int(match.group(1)) * _MEMORY_UNITS[match.group(2).upper()]


def _memory_size(env: Mapping[str, str], name: str) -> str | None:
    value = _text(env, name)
    if value is None:
        return None
    accepted = "a size of at least 128MB with a unit: KB, MB, GB, TB, KiB, MiB, GiB or TiB"
    try:
        size = memory_bytes(value)
    except ValueError:
        raise _bad(name, accepted, value) from None
    if size < _MIN_MEMORY_LIMIT:
        raise _bad(name, accepted, value)
    return value.replace(" ", "")


def _edits_store(env: Mapping[str, str]) -> str | None:
    value = _text(env, EDITS_STORE_ENV)
    if value is None or value == "sqlite" or _POSTGRES_URL.fullmatch(value):
        return value
    # The value may be a URL with a password: the message does not repeat it.
    raise SettingsError(f"{EDITS_STORE_ENV} must be sqlite or a postgresql://... URL")


def without_password(url: str) -> str:
    """A store URL fit for messages, headers and logs: its password left out."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    netloc = f"{parts.username or ''}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _object_store(env: Mapping[str, str]) -> str | None:
    value = _text(env, OBJECT_STORE_ENV)
    if value is None or _S3_URL.fullmatch(value):
        return value
    raise _bad(OBJECT_STORE_ENV, "an s3://bucket/prefix URL, or unset for local disk only", value)


def _durability(env: Mapping[str, str], object_store: str | None) -> EditsDurability | None:
    durability = _choice(env, EDITS_DURABILITY_ENV, EDITS_DURABILITIES)
    if durability in ("sync", "async") and object_store is None:
        raise SettingsError(
            f"{EDITS_DURABILITY_ENV}={durability} persists to object storage: set "
            f"{OBJECT_STORE_ENV} too, or use local"
        )
    return durability
