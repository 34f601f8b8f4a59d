"""The workspace's part of erasure and anonymisation (spacebetween.rights.erasure calls it).

Its free text is encrypted, so the generic pass, which looks for the client's names in text columns,
cannot see into it: every piece is blanked here instead. What stays is the de-identified record the
practice keeps (docs/data-rights.md): the versions' dates and chosen measures, the goals' ratings, the
reconsolidation steps' dates and the markers' results."""

from __future__ import annotations

from spacebetween.clients.models import Client
from spacebetween.formulation.models import (
    FormulationVersion,
    Goal,
    MarkerCheck,
    ReconsolidationStep,
    ReconsolidationWork,
)


def blank_free_text(client: Client) -> int:
    """Blank the formulation's parts, the goals' words and the reconsolidation work's text of every
    episode of `client`; returns how many rows changed. The caller holds the transaction."""
    episodes = {"episode__client": client}
    works = {"work__episode__client": client}
    return (
        FormulationVersion.objects.filter(**episodes).update(content_encrypted="")
        + Goal.objects.filter(**episodes).update(text_encrypted="")
        + ReconsolidationWork.objects.filter(**episodes).update(
            symptom_encrypted="", emotional_truth_encrypted=""
        )
        + ReconsolidationStep.objects.filter(**works).update(text_encrypted="")
        + MarkerCheck.objects.filter(**works).update(note_encrypted="")
    )
