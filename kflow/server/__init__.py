"""``kflow serve``: a read-only JSON API over one kflow home.

FastAPI and uvicorn are the optional extra ``kflow[server]``: nothing in the engine imports
them, and this package imports them only when an app is created (``kflow.server.app``), so
``import kflow.server`` works without the extra and the CLI can say which package is
missing instead of failing with a traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: importing fastapi here would need the extra
    from fastapi import FastAPI

    from kflow.api import Home

__all__ = ["create_app"]


def create_app(home: Home, token: str) -> FastAPI:
    """The API over ``home``, every request checked against ``token``. See
    :func:`kflow.server.app.create_app`."""
    from kflow.server.app import create_app as _create_app

    return _create_app(home, token)
