"""Keeps link tokens out of the logs (OWASP ASVS 5.0 16.2.5; docs/measurement-loop.md, "Logs"): the
questionnaire links' and the first sign-in links' (`/welcome/<token>/`, docs/security.md).

A link's path carries its token, and Django logs the path of every 4xx/5xx answer ("Not Found:
/a/<token>/" on `django.request`), of refused CSRF checks and, under runserver, of every request. This
filter, attached to those loggers when the app loads, replaces the token before any handler sees it.
Reverse proxies and WSGI servers keep their own access logs: docs/measurement-loop.md says how to
strip the token there."""

from __future__ import annotations

import logging
import re

# The link paths (`/a/<token>/` and `/a/<token>/start/`), wherever they appear in a message, and the
# first sign-in links of `spacebetween setup` (`/welcome/<token>/`, spacebetween/accounts/welcome.py).
LINK_PATH = re.compile(r"/a/[A-Za-z0-9_\-%.~]+")
REDACTED = "/a/[token]"
WELCOME_PATH = re.compile(r"/welcome/[A-Za-z0-9_\-%.~]+")
WELCOME_REDACTED = "/welcome/[token]"
LOGGERS = ("django.request", "django.server", "django.security.csrf", "django.security")


def redact(text: str) -> str:
    return WELCOME_PATH.sub(WELCOME_REDACTED, LINK_PATH.sub(REDACTED, text))


class RedactLinkTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        # Handlers that format the request themselves (AdminEmailHandler) must not see the path.
        if hasattr(record, "request"):
            record.request = None
        return True


def install() -> None:
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactLinkTokens) for f in logger.filters):
            logger.addFilter(RedactLinkTokens())
