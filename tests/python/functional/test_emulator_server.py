"""The emulator a person starts and stops: 127.0.0.1 only, a free port, a clean stop."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from forecast_hub.errors import UserError
from forecast_hub.settings import Settings
from forecast_hub.snowflake.connection import connect
from forecast_hub.snowflake.emulator import read_state, start_emulator, stop_emulator
from forecast_hub.snowflake.settings import SnowflakeSettings


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_start_serves_snowflake_sql_and_stop_frees_the_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORECAST_HUB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("FORECAST_HUB_EMULATOR_PORT", raising=False)
    settings = Settings(data_dir=tmp_path)
    state = start_emulator(settings)
    try:
        assert start_emulator(settings) == state, "a second start must reuse the running server"
        assert read_state(tmp_path) == state
        connection = connect(SnowflakeSettings.from_env("emulator"))
        try:
            cursor = connection.cursor()
            cursor.execute("select dateadd(day, 1, '2024-02-28'::date), current_database()")
            assert [str(v) for v in cursor.fetchone()] == ["2024-02-29", "FORECAST_HUB"]
        finally:
            connection.close()
    finally:
        stopped = stop_emulator(settings)
    assert stopped == state
    assert not _listening(state.port)
    assert not Path(state.scratch_dir).exists()
    assert stop_emulator(settings) is None


def test_without_a_running_emulator_the_error_says_how_to_start_one(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="forecast-hub emulator start"):
        SnowflakeSettings.from_env("emulator", env={"FORECAST_HUB_DATA_DIR": str(tmp_path)})
