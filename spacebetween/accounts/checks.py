"""Deployment checks of the accounts (`spacebetween check --deploy`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks
from django.db import DatabaseError, connections

DEMO_ACCOUNTS_ID = "spacebetween.accounts.E001"


@checks.register(checks.Tags.security, deploy=True)
def demo_accounts_in_production(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[Any]:
    """A production installation holds no demo accounts: their passwords are published. (They are
    refused at sign-in there as well, spacebetween/accounts/signin.py.)"""
    if not settings.PRODUCTION:
        return []
    from spacebetween.accounts.models import User

    connection = connections["default"]
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():  # type: ignore[attr-defined]
        database = Path(str(connection.settings_dict["NAME"]))
        if not database.exists():
            return []  # no database yet (before the first migrate): nothing to look at, nothing made
    try:
        count = User.objects.filter(is_demo_account=True).count()
    except DatabaseError:
        return []  # not migrated yet
    if not count:
        return []
    return [
        checks.Error(
            f"{count} demo account{'s' if count != 1 else ''} in a production installation: their "
            "password is published.",
            hint="Give production a database of its own: the demo practice belongs on a demo installation.",
            id=DEMO_ACCOUNTS_ID,
        )
    ]
