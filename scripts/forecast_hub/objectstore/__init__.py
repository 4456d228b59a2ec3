"""Object storage (S3 through boto3): published drafts and the persisted edits store.

``client`` is the bucket and prefix of FORECAST_HUB_OBJECT_STORE; ``drafts``
publishes builds there and fetches the current one; ``changes`` is the
format of the edits store's change objects; ``persistence`` keeps the
embedded edits store in the bucket (durability sync or async).
"""

from __future__ import annotations

from forecast_hub.objectstore.client import ObjectStore, ObjectStoreError, Overtaken, Unreachable
from forecast_hub.settings import Settings


def object_store_of(settings: Settings) -> ObjectStore | None:
    """The settings' object store, None when FORECAST_HUB_OBJECT_STORE is unset."""
    return ObjectStore(settings.object_store) if settings.object_store else None


__all__ = ["ObjectStore", "ObjectStoreError", "Overtaken", "Unreachable", "object_store_of"]
