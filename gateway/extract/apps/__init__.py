"""One small module per app upload shape (issue 18), chosen by host and path.

Most apps send the file in a generic shape (raw, multipart, JSON base64) that the walk handles on its own: their
module is a registration that names the carrier, and a recorded fixture with a test proves it. An app whose request
needs more (Grok's base64 under "content" typed by "fileMimeType") says what in its AppShape.
"""

from __future__ import annotations

from gateway.extract.apps import claude, copilot, deepseek, discord, grok, lechat, midjourney, perplexity
from gateway.extract.apps.shape import AppShape
from gateway.models import HttpRequest

APPS: tuple[AppShape, ...] = (
    claude.APP, copilot.APP, deepseek.APP, discord.APP, discord.PATH_STYLE, grok.APP, lechat.APP, midjourney.APP,
    perplexity.APP,
)

__all__ = ["APPS", "AppShape", "app_for"]


def app_for(request: HttpRequest) -> AppShape | None:
    """The app whose upload this request is, or None (the generic walk alone)."""
    return next((app for app in APPS if app.matches(request)), None)
