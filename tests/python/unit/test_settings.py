"""The one settings object: what it reads, its defaults, and a clear line for a bad value."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from forecast_hub import cli
from forecast_hub.settings import Settings, SettingsError

REPO = Path(__file__).resolve().parents[3]
ENV_EXAMPLE = REPO / ".env.example"
VARIABLE = re.compile(r"FORECAST_HUB_[A-Z0-9_]+")


class Recording(Mapping[str, str]):
    """An environment that remembers every name looked up in it (``get`` and ``in`` too)."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        return self.values[name]

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("the settings look variables up by name, never list them")

    def __len__(self) -> int:
        return len(self.values)


def env_example() -> dict[str, str]:
    entries = {}
    for line in ENV_EXAMPLE.read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            assert name not in entries, f"{name} is listed twice"
            entries[name] = value
    return entries


def read_variables() -> set[str]:
    environment = Recording({})
    Settings.from_env(environment)
    return environment.asked


def test_env_example_lists_exactly_the_variables_the_settings_read() -> None:
    assert set(env_example()) == read_variables()
    assert all(VARIABLE.fullmatch(name) for name in read_variables())


def test_env_example_values_are_the_defaults() -> None:
    assert Settings.from_env(env_example()) == Settings.from_env({}) == Settings()


def test_every_comment_of_env_example_is_one_line_above_its_variable() -> None:
    lines = ENV_EXAMPLE.read_text("utf-8").splitlines()
    for index, line in enumerate(lines):
        if VARIABLE.match(line):
            assert lines[index - 1].startswith("# "), f"{line} has no comment"


def test_no_other_file_names_a_variable_the_settings_do_not_read() -> None:
    """A variable read anywhere else (a module, dbt's profile or models) is declared too."""
    known = read_variables()
    files = [
        *(REPO / "scripts" / "forecast_hub").rglob("*.py"),
        *(REPO / "models").rglob("*.*"),
        REPO / "profiles" / "profiles.yml",
        REPO / "README.md",
    ]
    named = {
        (name, str(path.relative_to(REPO)))
        for path in files
        for name in VARIABLE.findall(path.read_text("utf-8"))
    }
    # A family named with a trailing "_*" (FORECAST_HUB_POSTGRES_*) is known if the
    # settings read at least one of its members.
    unknown = {
        entry
        for entry in named
        if entry[0] not in known
        and not (entry[0].endswith("_") and any(name.startswith(entry[0]) for name in known))
    }
    assert unknown == set()


def test_unset_and_empty_are_the_defaults() -> None:
    settings = Settings.from_env({"FORECAST_HUB_API_PORT": "", "FORECAST_HUB_TARGET": "  "})
    assert settings == Settings()
    assert settings.tokens_file == Path("data") / "api" / "tokens.json"
    assert settings.durability == "local"


def test_values_are_typed() -> None:
    settings = Settings.from_env(
        {
            "FORECAST_HUB_DATA_DIR": "/srv/forecast",
            "FORECAST_HUB_TARGET": "emulator",
            "FORECAST_HUB_API_HOST": " 0.0.0.0 ",
            "FORECAST_HUB_API_PORT": "8080",
            "FORECAST_HUB_API_TOKENS_FILE": "/etc/forecast-hub/tokens.json",
            "FORECAST_HUB_EMULATOR_PORT": "4100",
            "FORECAST_HUB_HYBRID_TABLES": "standard",
            "FORECAST_HUB_SNOWFLAKE_ACCOUNT_ONLY_DDL": "Yes",
            "FORECAST_HUB_EDITS_STORE": "postgresql://forecast@127.0.0.1:5432/forecast_hub",
            "FORECAST_HUB_OBJECT_STORE": "s3://forecast-hub/prod",
            "FORECAST_HUB_EDITS_DURABILITY": "async",
            "FORECAST_HUB_PERSIST_EVERY_WRITES": "25",
            "FORECAST_HUB_PERSIST_EVERY_SECONDS": "0.5",
            "FORECAST_HUB_CACHE_MAX_MB": "2048",
            "FORECAST_HUB_CACHE_RELOAD_SECONDS": "60",
            "FORECAST_HUB_CACHE_MODE": "on_demand",
        }
    )
    assert settings == Settings(
        data_dir=Path("/srv/forecast"),
        target="emulator",
        api_host="0.0.0.0",
        api_port=8080,
        api_tokens_file=Path("/etc/forecast-hub/tokens.json"),
        emulator_port=4100,
        hybrid_tables="standard",
        snowflake_account_only_ddl=True,
        edits_store="postgresql://forecast@127.0.0.1:5432/forecast_hub",
        object_store="s3://forecast-hub/prod",
        edits_durability="async",
        persist_every_writes=25,
        persist_every_seconds=0.5,
        cache_max_mb=2048,
        cache_reload_seconds=60.0,
        cache_mode="on_demand",
    )
    assert settings.tokens_file == Path("/etc/forecast-hub/tokens.json")
    assert settings.warehouse_path == Path("/srv/forecast/warehouse/forecast_hub.duckdb")


def test_durability_defaults_to_sync_with_an_object_store() -> None:
    with_store = Settings.from_env({"FORECAST_HUB_OBJECT_STORE": "s3://bucket/edits"})
    assert with_store.durability == "sync"
    local = Settings.from_env(
        {"FORECAST_HUB_OBJECT_STORE": "s3://bucket", "FORECAST_HUB_EDITS_DURABILITY": "local"}
    )
    assert local.durability == "local"


@pytest.mark.parametrize(
    ("name", "value", "accepted"),
    [
        ("FORECAST_HUB_TARGET", "oracle", "duckdb, emulator, snowflake or postgres"),
        ("FORECAST_HUB_TARGET", "DuckDB", "duckdb, emulator, snowflake or postgres"),
        ("FORECAST_HUB_API_PORT", "0", "a port number from 1 to 65535"),
        ("FORECAST_HUB_API_PORT", "65536", "a port number from 1 to 65535"),
        ("FORECAST_HUB_API_PORT", "80a", "a port number from 1 to 65535"),
        ("FORECAST_HUB_EMULATOR_PORT", "-1", "a port number from 1 to 65535"),
        ("FORECAST_HUB_HYBRID_TABLES", "temporary", "hybrid or standard"),
        ("FORECAST_HUB_SNOWFLAKE_ACCOUNT_ONLY_DDL", "maybe", "true or false"),
        ("FORECAST_HUB_EDITS_STORE", "mysql://db", "sqlite or a postgresql://... URL"),
        ("FORECAST_HUB_OBJECT_STORE", "/var/forecast", "an s3://bucket/prefix URL"),
        ("FORECAST_HUB_OBJECT_STORE", "s3://", "an s3://bucket/prefix URL"),
        ("FORECAST_HUB_EDITS_DURABILITY", "eventually", "sync, async or local"),
        ("FORECAST_HUB_PERSIST_EVERY_WRITES", "0", "a whole number of at least 1"),
        ("FORECAST_HUB_PERSIST_EVERY_WRITES", "2.5", "a whole number of at least 1"),
        ("FORECAST_HUB_PERSIST_EVERY_SECONDS", "-3", "a number of seconds above 0"),
        ("FORECAST_HUB_PERSIST_EVERY_SECONDS", "nan", "a number of seconds above 0"),
        ("FORECAST_HUB_CACHE_MAX_MB", "9" * 40, "a whole number of at least 1"),
        ("FORECAST_HUB_CACHE_RELOAD_SECONDS", "hourly", "a number of seconds above 0"),
        ("FORECAST_HUB_CACHE_MODE", "lazy", "auto, preload or on_demand"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable_and_what_it_accepts(
    name: str, value: str, accepted: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({name: value})
    message = str(raised.value)
    assert message.startswith(f"{name} must be {accepted}")
    assert "\n" not in message


def test_durability_that_persists_needs_an_object_store() -> None:
    for durability in ("sync", "async"):
        with pytest.raises(SettingsError, match="set FORECAST_HUB_OBJECT_STORE too, or use local"):
            Settings.from_env({"FORECAST_HUB_EDITS_DURABILITY": durability})


def test_an_edits_store_url_with_a_password_is_never_repeated() -> None:
    url = "postgresql://forecast:hunter2@db.internal/forecast_hub"
    assert "hunter2" not in repr(Settings.from_env({"FORECAST_HUB_EDITS_STORE": url}))
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"FORECAST_HUB_EDITS_STORE": url.replace("postgresql", "mysql")})
    assert "hunter2" not in str(raised.value)


def run_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["forecast-hub", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    return int(exited.value.code or 0), capsys.readouterr().err


def test_the_cli_shows_a_bad_variable_as_one_line_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FORECAST_HUB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FORECAST_HUB_CACHE_MODE", "lazy")
    code, err = run_cli(monkeypatch, capsys, "ingest")
    assert code == 1
    assert err == (
        "error: FORECAST_HUB_CACHE_MODE must be auto, preload or on_demand, not 'lazy'\n"
    )


def test_an_option_left_out_takes_its_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """FORECAST_HUB_TARGET=emulator sends `land` to the emulator; --target still wins."""
    monkeypatch.setenv("FORECAST_HUB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("FORECAST_HUB_EMULATOR_PORT", raising=False)
    monkeypatch.setenv("FORECAST_HUB_TARGET", "emulator")
    code, err = run_cli(monkeypatch, capsys, "land")
    assert code == 1 and "no emulator is running" in err
    code, err = run_cli(monkeypatch, capsys, "land", "--target", "duckdb")
    assert code == 1 and "run `forecast-hub ingest` first" in err


def test_duckdb_memory_limit_and_spill_folder() -> None:
    default = Settings.from_env({"FORECAST_HUB_DATA_DIR": "/srv/forecast"})
    assert default.duckdb_memory_limit == "3GB"
    assert default.duckdb_memory_bytes == 3 * 10**9
    assert default.duckdb_spill_dir == Path("/srv/forecast/spill")
    chosen = Settings.from_env(
        {"FORECAST_HUB_DUCKDB_MEMORY_LIMIT": "512 MiB", "FORECAST_HUB_DUCKDB_TEMP_DIR": "/scratch"}
    )
    assert chosen.duckdb_memory_limit == "512MiB"
    assert chosen.duckdb_memory_bytes == 512 * 2**20
    assert chosen.duckdb_spill_dir == Path("/scratch")


@pytest.mark.parametrize("value", ["8", "lots", "8 gigabytes", "-1GB", "100MB", "0GB", "1.5GB"])
def test_a_bad_duckdb_memory_limit_is_one_line(value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"FORECAST_HUB_DUCKDB_MEMORY_LIMIT": value})
    message = str(raised.value)
    assert message.startswith(
        "FORECAST_HUB_DUCKDB_MEMORY_LIMIT must be a size of at least 128MB with a unit"
    )
    assert "\n" not in message


def test_dbt_profile_defaults_are_the_settings_defaults() -> None:
    """The duckdb profile reads the same two variables, falling back to the same defaults."""
    profile = (REPO / "profiles" / "profiles.yml").read_text("utf-8")
    assert (
        "memory_limit: \"{{ env_var('FORECAST_HUB_DUCKDB_MEMORY_LIMIT', '') or "
        f"'{Settings().duckdb_memory_limit}' }}}}\""
    ) in profile
    assert Settings().duckdb_spill_dir == Path("data") / "spill"
    assert "or 'data') ~ '/spill') }}/dbt\"" in profile
