"""Internal storage (``kestra:///`` URIs). See :mod:`kflow.storage.base`."""

from kflow.storage.base import Storage, slugify
from kflow.storage.local import LocalStorage

__all__ = ["LocalStorage", "Storage", "slugify"]
