"""WhiteNoise, with its root folder made when the web server starts rather than when settings load.

Outside production WhiteNoise serves straight from the apps' static folders (WHITENOISE_USE_FINDERS)
but warns when STATIC_ROOT is missing; in production `collectstatic` fills it (docs/operations.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from whitenoise.middleware import WhiteNoiseMiddleware as _WhiteNoiseMiddleware


class WhiteNoiseMiddleware(_WhiteNoiseMiddleware):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if not settings.PRODUCTION and settings.STATIC_ROOT:
            Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
        super().__init__(*args, **kwargs)
