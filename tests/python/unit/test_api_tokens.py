"""Tokens: shown once, stored only as hashes, picked up without a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from forecast_hub.api.tokens import Principal, TokenRegistry, add_token, hash_token
from forecast_hub.errors import UserError


def test_a_token_is_stored_hashed_and_resolves_to_its_tenant_and_user(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    token = add_token(path, "northwind", "ann")
    stored = path.read_text("utf-8")
    assert token not in stored
    assert hash_token(token) in stored
    assert path.stat().st_mode & 0o077 == 0
    assert TokenRegistry(path).lookup(token) == Principal("northwind", "ann")
    assert TokenRegistry(path).lookup(token + "x") is None
    assert TokenRegistry(path).lookup(hash_token(token)) is None


def test_a_token_added_later_is_seen_by_a_running_registry(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    registry = TokenRegistry(path)
    assert len(registry) == 0
    first = add_token(path, "northwind", "ann")
    second = add_token(path, "globex", "bob")
    assert registry.lookup(first) == Principal("northwind", "ann")
    assert registry.lookup(second) == Principal("globex", "bob")


def test_a_broken_file_keeps_the_tokens_already_loaded(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    token = add_token(path, "northwind", "ann")
    registry = TokenRegistry(path)
    path.write_text("{not json", "utf-8")
    assert registry.lookup(token) == Principal("northwind", "ann")


@pytest.mark.parametrize(("tenant", "user"), [("", "ann"), ("northwind", " "), ("northwind", "*")])
def test_a_token_needs_a_tenant_and_a_real_user(tmp_path: Path, tenant: str, user: str) -> None:
    with pytest.raises(UserError):
        add_token(tmp_path / "tokens.json", tenant, user)
