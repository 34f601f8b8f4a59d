"""Reads for the account pages."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from spacebetween.accounts.models import TotpDevice, User


def staff_overview(staff: QuerySet[User]) -> QuerySet[User]:
    """Staff with their supervisor and whether their authenticator is set up; one query."""
    confirmed = TotpDevice.objects.filter(user=OuterRef("pk"), confirmed_at__isnull=False)
    return (
        staff.select_related("supervisor", "proposed_supervisor")
        .annotate(mfa_enrolled=Exists(confirmed))
        .order_by("-is_active", "full_name", "pk")
    )
