"""One S3 bucket and prefix, as FORECAST_HUB_OBJECT_STORE names it, through boto3.

The endpoint, region and credentials are the standard AWS variables
(``AWS_ENDPOINT_URL``, ``AWS_REGION``, ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``), read by boto3 itself, so any S3-compatible store
works. Writes that must not race are conditional: ``If-None-Match: *`` (only
if absent) or ``If-Match: <etag>`` (only if unchanged); a failed condition is
``Overtaken``.

botocore's own retries are off: a conditional write retried after a timeout
could find its own first attempt and look overtaken. Callers retry, and an
``Unreachable`` says whether the request may still have been applied.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

CONNECT_TIMEOUT_SECONDS = 2.0
READ_TIMEOUT_SECONDS = 3.0
BULK_READ_TIMEOUT_SECONDS = 60.0
SMALL_PUT_BYTES = 1 << 20


class ObjectStoreError(Exception):
    """The object store refused or failed a request; the message says what to fix."""


class Unreachable(ObjectStoreError):
    """No answer, a broken connection or a server error.

    ``ambiguous`` is True when the request may have reached the store and been
    applied (a timeout after sending, a dropped connection, a 5xx answer).
    """

    def __init__(self, message: str, ambiguous: bool) -> None:
        super().__init__(message)
        self.ambiguous = ambiguous


class Overtaken(ObjectStoreError):
    """A conditional write failed (412): someone else wrote the object first."""


class _Missing(Exception):
    """No such key (404)."""


@dataclass(frozen=True)
class StoredObject:
    body: bytes
    etag: str
    metadata: dict[str, str]


_SESSIONS: dict[str, Any] = {}
_SESSION_LOCK = threading.Lock()


def _client(connect_timeout: float, read_timeout: float) -> Any:
    """A client of one session per process: its service model is loaded once."""
    import boto3
    from botocore.config import Config

    with _SESSION_LOCK:
        session = _SESSIONS.get("s3")
        if session is None:
            session = _SESSIONS["s3"] = boto3.session.Session()

    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"total_max_attempts": 1},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        max_pool_connections=32,
    )
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    with _SESSION_LOCK:
        client = session.client("s3", region_name=region, config=config)
    client.meta.events.register("before-sign.s3.PutObject", _no_wait_for_continue)
    return client


def _no_wait_for_continue(request: Any, **_: Any) -> None:
    """A small PUT sends its body at once: botocore's ``Expect: 100-continue`` costs a
    round trip (a third of a change object's upload to a store on loopback)."""
    body = request.body
    size = len(body) if isinstance(body, bytes | bytearray) else getattr(body, "len", None)
    if size is None and hasattr(body, "getbuffer"):
        size = body.getbuffer().nbytes
    if size is not None and size < SMALL_PUT_BYTES and "Expect" in request.headers:
        del request.headers["Expect"]


class ObjectStore:
    """Keys under one prefix of one bucket; every name given is relative to the prefix."""

    def __init__(
        self,
        url: str,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        read_timeout: float = READ_TIMEOUT_SECONDS,
    ) -> None:
        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ObjectStoreError(f"{url!r} is not an s3://bucket/prefix URL")
        self.url = url.rstrip("/")
        self.bucket = parsed.netloc
        self.prefix = parsed.path.strip("/")
        self._client = _client(connect_timeout, read_timeout)
        self._bulk = _client(connect_timeout, BULK_READ_TIMEOUT_SECONDS)

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def where(self, name: str) -> str:
        return f"s3://{self.bucket}/{self.key(name)}"

    def _call(self, operation: str, name: str, client: Any = None, **kwargs: Any) -> Any:
        from botocore.exceptions import (
            ClientError,
            ConnectTimeoutError,
            EndpointConnectionError,
            NoCredentialsError,
        )
        from botocore.exceptions import (
            HTTPClientError as BotoHttpError,
        )

        where = self.where(name)
        try:
            return getattr(client or self._client, operation)(Bucket=self.bucket, **kwargs)
        except ClientError as error:
            status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            code = str(error.response.get("Error", {}).get("Code", status))
            if status == 404 and code in ("NoSuchKey", "404", "NotFound"):
                raise _Missing(where) from error
            if status == 412:
                raise Overtaken(f"{where} was written by someone else (412)") from error
            if code == "NoSuchBucket":
                raise ObjectStoreError(
                    f"bucket {self.bucket} does not exist: create it, or fix "
                    "FORECAST_HUB_OBJECT_STORE"
                ) from error
            if status >= 500 or status in (0, 409):
                raise Unreachable(f"{where}: {code} ({status})", ambiguous=True) from error
            raise ObjectStoreError(f"{where}: {code} ({status})") from error
        except (EndpointConnectionError, ConnectTimeoutError) as error:
            raise Unreachable(f"{where}: {error}", ambiguous=False) from error
        except BotoHttpError as error:
            raise Unreachable(f"{where}: {error}", ambiguous=True) from error
        except NoCredentialsError as error:
            raise ObjectStoreError(
                f"{where}: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            ) from error

    def get(self, name: str, bulk: bool = False) -> StoredObject | None:
        """The object and its ETag, or None if there is none."""
        try:
            answer = self._call(
                "get_object", name, self._bulk if bulk else None, Key=self.key(name)
            )
            body = answer["Body"].read()
        except _Missing:
            return None
        except ObjectStoreError:
            raise
        except Exception as error:  # the body's stream broke off
            raise Unreachable(f"{self.where(name)}: {error}", ambiguous=False) from error
        return StoredObject(body, str(answer["ETag"]), dict(answer.get("Metadata") or {}))

    def head(self, name: str) -> StoredObject | None:
        """The ETag and metadata without the body (empty), or None if there is none."""
        try:
            answer = self._call("head_object", name, Key=self.key(name))
        except _Missing:
            return None
        return StoredObject(b"", str(answer["ETag"]), dict(answer.get("Metadata") or {}))

    def put(
        self,
        name: str,
        body: bytes,
        *,
        if_match: str | None = None,
        if_absent: bool = False,
        metadata: dict[str, str] | None = None,
        bulk: bool = False,
    ) -> str:
        """Write the object; the new ETag. Overtaken when a condition fails."""
        kwargs: dict[str, Any] = {"Key": self.key(name), "Body": body}
        if if_match is not None:
            kwargs["IfMatch"] = if_match
        elif if_absent:
            kwargs["IfNoneMatch"] = "*"
        if metadata:
            kwargs["Metadata"] = metadata
        answer = self._call("put_object", name, self._bulk if bulk else None, **kwargs)
        return str(answer["ETag"])

    def put_file(self, name: str, path: Path, **conditions: Any) -> str:
        return self.put(name, path.read_bytes(), bulk=True, **conditions)

    def list_names(self, prefix: str) -> list[str]:
        """Names (relative to the store's prefix) under ``prefix``, in key order."""
        names: list[str] = []
        token: str | None = None
        strip = len(self.key(""))
        while True:
            kwargs: dict[str, Any] = {"Prefix": self.key(prefix)}
            if token:
                kwargs["ContinuationToken"] = token
            answer = self._call("list_objects_v2", prefix, **kwargs)
            names.extend(item["Key"][strip:] for item in answer.get("Contents", []))
            if not answer.get("IsTruncated"):
                return names
            token = answer.get("NextContinuationToken")

    def delete(self, names: list[str]) -> None:
        for start in range(0, len(names), 1000):
            chunk = names[start : start + 1000]
            self._call(
                "delete_objects",
                chunk[0],
                Delete={"Objects": [{"Key": self.key(n)} for n in chunk], "Quiet": True},
            )

    def reachable(self) -> bool:
        try:
            self._call("head_bucket", "")
        except ObjectStoreError:
            return False
        return True
