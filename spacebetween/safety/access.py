"""Who may see which risk flag, following `clients.access`: deny by default, 404 outside the user's
rights or practice (existence is never revealed), every denial audited.

A therapist or supervisor sees the flags on episodes they may read (their own; a supervisor also
those shared for supervision) and any flag the escalation chain told them about
(`safety.escalation`). A practice admin sees only the flags they were told about. A client never
sees a flag, not even on their own episode. Whether the user may *acknowledge* a flag is
`safety.risk.flag_acknowledge`'s rule (403 if not).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest

from spacebetween.accounts.models import CLINICAL_ROLES, Role, User
from spacebetween.audit.models import Entity
from spacebetween.audit.services import record_denied
from spacebetween.clients.access import NOT_FOUND, episodes_for
from spacebetween.safety.models import RiskFlag, RiskNotification


def told(user: User) -> QuerySet[RiskNotification, int]:
    return RiskNotification.objects.filter(recipient_id=user.pk).values_list("flag_id", flat=True)


def flags_for(user: User) -> QuerySet[RiskFlag]:
    if user.role in CLINICAL_ROLES:
        scope = Q(episode__in=episodes_for(user)) | Q(pk__in=told(user))
    elif user.role == Role.ADMIN:
        scope = Q(pk__in=told(user))
    else:
        return RiskFlag.objects.none()
    return RiskFlag.objects.filter(scope, episode__client__practice_id=user.practice_id)


def get_flag_for(request: HttpRequest | None, user: User, pk: int) -> RiskFlag:
    flag = (
        flags_for(user)
        .select_related("episode__client__practice", "episode__therapist", "assignment", "acknowledged_by")
        .filter(pk=pk)
        .first()
    )
    if flag is None:
        record_denied(
            actor=user, entity_type=Entity.RISK_FLAG, entity_id=pk, request=request, detail="not-in-scope"
        )
        raise Http404(NOT_FOUND)
    return flag
