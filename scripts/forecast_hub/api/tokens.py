"""Bearer tokens from the operator's file, stored as SHA-256 hashes only.

A token is 256 random bits, so an unsalted hash is enough: the file never
holds anything that grants access. The file is re-read when it changes, so
adding a token needs no restart.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from forecast_hub.errors import UserError
from forecast_hub.hybrid.tables import TENANT_DEFAULTS_USER

TOKEN_PREFIX = "fh_"


@dataclass(frozen=True)
class Principal:
    """Who a token belongs to: exactly one tenant and one user."""

    tenant_id: str
    user_id: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _read(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["tokens"]
    except (ValueError, KeyError, TypeError) as error:
        raise UserError(f"{path} is not a tokens file ({error})") from error
    return list(entries)


def add_token(path: Path, tenant_id: str, user_id: str) -> str:
    """Create a token for a tenant's user, store its hash, and return it (shown once)."""
    if not tenant_id.strip() or not user_id.strip():
        raise UserError("a token needs a tenant and a user")
    if user_id == TENANT_DEFAULTS_USER:
        raise UserError(f"'{TENANT_DEFAULTS_USER}' is reserved for the tenant's defaults")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    entries = _read(path)
    entries.append(
        {
            "sha256": hash_token(token),
            "tenant_id": tenant_id,
            "user_id": user_id,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(path.name + ".tmp")
    descriptor = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump({"tokens": entries}, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(staged, path)
    return token


class TokenRegistry:
    """Token hash -> principal, reloaded whenever the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._by_hash: dict[str, Principal] = {}
        self._reload()

    def _current_stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def _reload(self) -> None:
        stamp = self._current_stamp()
        if stamp == self._stamp:
            return
        by_hash = {}
        for entry in _read(self.path) if stamp else []:
            by_hash[entry["sha256"]] = Principal(entry["tenant_id"], entry["user_id"])
        self._by_hash = by_hash
        self._stamp = stamp

    def __len__(self) -> int:
        return len(self._by_hash)

    def lookup(self, token: str) -> Principal | None:
        # A half-edited file keeps the last good set of tokens.
        with contextlib.suppress(UserError):
            self._reload()
        return self._by_hash.get(hash_token(token))
