"""`{% consent_summary client %}`: the client's consent on their page, and the way to change it."""

from __future__ import annotations

from typing import Any

from django import template

from spacebetween.clients.models import Client
from spacebetween.consent.selectors import consent_states

register = template.Library()


@register.inclusion_tag("rights/_consent_summary.html")
def consent_summary(client: Client) -> dict[str, Any]:
    return {"client": client, "consents": consent_states(client)}
