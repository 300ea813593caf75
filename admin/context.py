"""What a page of the admin site needs from the running process, taken from the request
(`request.app.state`, set by `admin.app.create_admin`), so that pages never import the
app that mounts them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request

if TYPE_CHECKING:
    from bot.app import Assistant

__all__ = ["assistant"]


def assistant(request: Request) -> Assistant:
    """The running assistant (database, knowledge base, settings) of this request."""
    return request.app.state.get_assistant()
