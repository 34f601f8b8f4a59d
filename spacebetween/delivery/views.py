"""The client's side of the measurement loop: a one-time link's start page and its exchange for an
answering session, then the answering pages (one question per page, a review, submission, and the
crisis resources or a thank-you). A client signed in to the portal answers through the same views
and templates; only how the assignment is found differs (`_link_answering`, `_portal_answering`).

The practice admin's page for the practice's own crisis resources is `safety.crisis_views`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from spacebetween import clock
from spacebetween.accounts.decorators import AuthenticatedHttpRequest, client_required
from spacebetween.accounts.models import User
from spacebetween.answering import services as answering
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record, record_denied
from spacebetween.core.instruments import Instrument
from spacebetween.delivery import selectors, services
from spacebetween.measures.models import Assignment, AssignmentStatus, SubmittedVia
from spacebetween.measures.selectors import open_questionnaires_for_client
from spacebetween.safety import crisis
from spacebetween.safety.models import RiskFlag
from spacebetween.safety.plans import plan_for_crisis_page

V = TypeVar("V", bound=Callable[..., HttpResponse])

LINK_UNKNOWN = "This link does not work. Check that you opened the whole link from the email."
LINK_REPLACED = (
    "This link was replaced by a newer one: your therapist has sent you the questionnaire again. Use "
    "the link in the most recent email from your therapist."
)
LINK_USED = (
    "This link has been used already: each link works once. If you did not finish, your therapist can "
    "send you a new link; let them know. Answers you saved are kept."
)
LINK_GONE = (
    "This link does not work any more: it has expired, or the questionnaire was closed. Your therapist "
    "can send you a new link from Space Between; let them know if you would like to answer it."
)
TOO_MANY = "Too many attempts with links that do not work. Wait 15 minutes, then try again."
SESSION_ENDED = (
    "Your answering session has ended or was never started. Open the link in your email again; if it "
    "no longer works, your therapist can send you a new one. Answers you saved are kept."
)
ANSWERS_MISSING = "Some questions still need an answer: {items}."


def private_page(view: V) -> V:
    """No caching, no indexing, and a Referer of the origin at most on every page of this app
    (security.md §1.8 point 5). Not `no-referrer`: browsers then send `Origin: null` with the Start
    form, which Django's CSRF check rightly refuses; `strict-origin` never sends the path."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response.headers["Referrer-Policy"] = "strict-origin"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return cast(V, never_cache(wrapper))


# --- The link -----------------------------------------------------------------------------------


def _link_problem(request: HttpRequest, exc: Exception) -> HttpResponse:
    if isinstance(exc, services.TooManyAttempts):
        return render(request, "delivery/link_problem.html", {"message": TOO_MANY}, status=429)
    assert isinstance(exc, services.LinkRefused)
    if not exc.gone:
        return render(request, "delivery/link_problem.html", {"message": LINK_UNKNOWN}, status=404)
    message = LINK_REPLACED if exc.replaced else LINK_USED if exc.used else LINK_GONE
    return render(request, "delivery/link_problem.html", {"message": message}, status=410)


@require_GET
@private_page
def link_start_page(request: HttpRequest, token: str) -> HttpResponse:
    """Opening the link consumes nothing (mail scanners fetch links): it only offers to start."""
    try:
        assignments = services.link_check(request=request, token=token)
    except (services.LinkRefused, services.TooManyAttempts) as exc:
        return _link_problem(request, exc)
    instruments = [services.instrument_for(a) for a in assignments]
    context = {"instruments": [i for i in instruments if i is not None], "token": token}
    return render(request, "delivery/start.html", context)


@require_POST
@private_page
def link_start(request: HttpRequest, token: str) -> HttpResponse:
    try:
        services.link_exchange(request=request, token=token)
    except (services.LinkRefused, services.TooManyAttempts) as exc:
        return _link_problem(request, exc)
    return redirect("link_answer")


@require_POST
@private_page
def link_next(request: HttpRequest) -> HttpResponse:
    """On to the link's next questionnaire, from the thank-you, crisis or closed page."""
    if services.answering_assignment_id(request) is None:
        return render(request, "delivery/link_problem.html", {"message": SESSION_ENDED}, status=403)
    if services.answering_next(request) is None:
        return redirect("link_done")
    return redirect("link_answer")


# --- Finding the assignment ---------------------------------------------------------------------


@dataclass(frozen=True)
class Answering:
    assignment: Assignment
    instrument: Instrument | None
    via: str
    actor: User | None
    answer_url: str
    review_url: str
    done_url: str


class NoAnsweringSession(Exception):
    pass


def _assignments() -> Any:
    return Assignment.objects.select_related("episode__client__practice", "episode__therapist")


def _link_answering(request: HttpRequest) -> Answering:
    pk = services.answering_assignment_id(request)
    assignment = _assignments().filter(pk=pk).first() if pk is not None else None
    if assignment is None:
        raise NoAnsweringSession
    return Answering(
        assignment=assignment,
        instrument=services.instrument_for(assignment),
        via=SubmittedVia.LINK,
        actor=None,
        answer_url=reverse("link_answer"),
        review_url=reverse("link_review"),
        done_url=reverse("link_done"),
    )


def _portal_answering(request: AuthenticatedHttpRequest, assignment_id: int) -> Answering:
    """The signed-in client's own assignment; anyone else's is 404 (its existence is not revealed)."""
    assignment = (
        _assignments().filter(pk=assignment_id, episode__client__portal_user_id=request.user.pk).first()
    )
    if assignment is None:
        record_denied(
            actor=request.user,
            entity_type=Entity.ASSIGNMENT,
            entity_id=assignment_id,
            detail="not own",
            request=request,
        )
        raise Http404
    kwargs = {"assignment_id": assignment.pk}
    return Answering(
        assignment=assignment,
        instrument=services.instrument_for(assignment),
        via=SubmittedVia.PORTAL,
        actor=request.user,
        answer_url=reverse("portal_answer", kwargs=kwargs),
        review_url=reverse("portal_review", kwargs=kwargs),
        done_url=reverse("portal_done", kwargs=kwargs),
    )


def _audit_read(request: HttpRequest, a: Answering, page: str) -> None:
    """A page that shows the client their own answers or draft: one READ row per view, about the
    assignment, with ids only. By the portal login, or by the holder of a one-time link (no actor,
    the role "client"), like the crisis page's read of the safety plan."""
    record(
        action=Action.READ,
        actor=a.actor,
        entity_type=Entity.ASSIGNMENT,
        entity_id=a.assignment.pk,
        practice_id=a.assignment.episode.client.practice_id,
        purpose=Purpose.PATIENT_REQUEST,
        request=request,
        detail=f"own answers: {page} page",
        actor_role="" if a.actor is not None else "client",
    )


def _next_step(request: HttpRequest, a: Answering) -> dict[str, Any] | None:
    """The way on to the client's next questionnaire, if one is waiting: the link's next one (a POST,
    `link_next`), or in the portal the next open one. Offered on the thank-you, crisis and closed pages."""
    if a.via == SubmittedVia.LINK:
        left = services.answering_left(request)
        return {"url": reverse("link_next"), "post": True, "left": left} if left else None
    waiting = [
        q for q in open_questionnaires_for_client(cast(User, a.actor)) if q.assignment.pk != a.assignment.pk
    ]
    if not waiting:
        return None
    url = reverse("portal_answer", kwargs={"assignment_id": waiting[0].assignment.pk})
    return {"url": url, "post": False, "left": len(waiting)}


def _has_risk_flag(a: Answering) -> bool:
    return RiskFlag.objects.filter(assignment=a.assignment).exists()


def _posted_answer(request: HttpRequest, a: Answering) -> dict[str, int | float | None]:
    """The answer a question page posted, when it is one of its item's options; else nothing."""
    if a.instrument is None:
        return {}
    number = _number(request.POST.get("q"), len(a.instrument.items))
    if number is None:
        return {}
    item = a.instrument.items[number - 1]
    try:
        return {item.id: services.parse_answer(a.instrument, item.id, request.POST.get("answer"))}
    except ValidationError:
        return {}


def _closed(request: HttpRequest, a: Answering) -> HttpResponse | None:
    """The page for an assignment that can no longer be answered, or None while it can. Sending
    answers to a closed questionnaire is refused, but their risk answers are not: what the client
    saved is read by the risk rules again (`response_submit` does it), and the page shows crisis help
    when any raised a flag."""
    assignment = a.assignment
    if assignment.status == AssignmentStatus.ANSWERED:
        return redirect(a.done_url)
    message = answering.closed_reason(assignment, clock.now())
    if message is None and a.instrument is None:
        message = answering.INSTRUMENT_WITHDRAWN
    if message is None:
        return None
    if request.method == "POST":
        try:
            answering.response_submit(
                assignment=assignment,
                answers={**selectors.draft_answers(assignment), **_posted_answer(request, a)},
                via=a.via,
                actor=a.actor,
                now=clock.now(),
                request=request,
            )
        except answering.Refused as exc:
            message = exc.messages[0]
    context = {
        "message": message,
        "a": a,
        "resources": _resources(a) if _has_risk_flag(a) else None,
        "next_step": _next_step(request, a),
    }
    return render(request, "delivery/closed.html", context, status=410)


# --- The answering pages, shared ----------------------------------------------------------------


def _number(raw: str | None, count: int) -> int | None:
    try:
        number = int(raw or "")
    except ValueError:
        return None
    return number if 1 <= number <= count else None


def _question(request: HttpRequest, a: Answering) -> HttpResponse:
    closed = _closed(request, a)
    if closed is not None:
        return closed
    assert a.instrument is not None
    items = a.instrument.items
    answers = selectors.draft_answers(a.assignment)
    source = request.POST if request.method == "POST" else request.GET
    number = _number(source.get("q"), len(items))
    if number is None:
        unanswered = [n for n, item in enumerate(items, 1) if item.id not in answers]
        if not unanswered and request.method == "GET":
            return redirect(a.review_url)
        number = unanswered[0] if unanswered else 1
    item = items[number - 1]
    then_review = source.get("then") == "review"
    error = None
    if request.method == "POST":
        try:
            value = services.parse_answer(a.instrument, item.id, source.get("answer"))
        except ValidationError as exc:
            error = exc.messages[0]
        else:
            services.draft_save(
                assignment=a.assignment, instrument=a.instrument, item_id=item.id, value=value, actor=a.actor
            )
            if then_review or number == len(items):
                return redirect(a.review_url)
            return redirect(f"{a.answer_url}?q={number + 1}")
    context = {
        "a": a,
        "instrument": a.instrument,
        "item": item,
        "number": number,
        "count": len(items),
        "chosen": "" if answers.get(item.id) is None else str(answers[item.id]),
        "error": error,
        "then_review": then_review,
        "previous_url": f"{a.answer_url}?q={number - 1}" if number > 1 else None,
        # Crisis help at once when a saved answer raised a flag; before the first answer, the notice
        # that answers are not watched in real time, with the numbers to call.
        "resources": _resources(a) if number == 1 or _has_risk_flag(a) else None,
        "flagged": _has_risk_flag(a),
    }
    _audit_read(request, a, "question")
    return render(request, "delivery/question.html", context, status=400 if error else 200)


def _review_rows(instrument: Instrument, answers: dict[str, Any], answer_url: str) -> list[dict[str, Any]]:
    rows = []
    for number, item in enumerate(instrument.items, 1):
        value = answers.get(item.id)
        option = item.option_for(value) if value is not None else None
        rows.append(
            {
                "number": number,
                "item": item,
                "answer": option.display if option is not None else None,
                "missing": item.required and option is None,
                "change_url": f"{answer_url}?q={number}&then=review",
            }
        )
    return rows


def _resources(a: Answering) -> list[crisis.Resource]:
    """The crisis resources this client is shown: one source for every answering page, for the
    client's own country when recorded, else the practice's (safety/crisis.py)."""
    client = a.assignment.episode.client
    return crisis.resources_for(client.practice, client)


def _crisis(request: HttpRequest, a: Answering, *, error: str | None = None) -> HttpResponse:
    resources = _resources(a)
    answered = a.assignment.status == AssignmentStatus.ANSWERED
    # The client's own safety plan, when they have one, below the crisis resources.
    plan = plan_for_crisis_page(a.assignment.episode.client, actor=a.actor, request=request)
    context = {
        "resources": resources,
        "answered": answered,
        "error": error,
        "a": a,
        "safety_plan": plan,
        "next_step": _next_step(request, a),
    }
    return render(request, "delivery/crisis.html", context)


def _review(request: HttpRequest, a: Answering) -> HttpResponse:
    closed = _closed(request, a)
    if closed is not None:
        return closed
    assert a.instrument is not None
    answers = selectors.draft_answers(a.assignment)
    rows = _review_rows(a.instrument, answers, a.answer_url)
    missing = [str(r["number"]) for r in rows if r["missing"]]
    errors: list[str] = []
    if request.method == "POST":
        if missing:
            errors = [ANSWERS_MISSING.format(items=", ".join(missing))]
        else:
            submitted = {item.id: answers.get(item.id) for item in a.instrument.items}
            try:
                answering.response_submit(
                    assignment=a.assignment,
                    answers=submitted,
                    via=a.via,
                    actor=a.actor,
                    now=clock.now(),
                    request=request,
                )
            except answering.Refused as exc:
                if exc.risk_flags:
                    return _crisis(request, a, error=" ".join(exc.messages))
                if not isinstance(exc, answering.QuestionnaireClosed):
                    errors = exc.messages
                else:  # answered meanwhile (a second tab), expired, withdrawn
                    context = {
                        "message": exc.messages[0],
                        "a": a,
                        "resources": None,
                        "next_step": _next_step(request, a),
                    }
                    return render(request, "delivery/closed.html", context, status=409)
            else:
                services.draft_discard(assignment=a.assignment)
                return redirect(a.done_url)
    context = {"a": a, "instrument": a.instrument, "rows": rows, "missing": missing, "errors": errors}
    _audit_read(request, a, "review")
    return render(request, "delivery/review.html", context, status=400 if errors else 200)


def _done(request: HttpRequest, a: Answering) -> HttpResponse:
    """The crisis resources whenever the answers raised a risk flag (they cannot be skipped or turned
    off, docs/safety.md); a thank-you otherwise."""
    if _has_risk_flag(a):
        _audit_read(request, a, "done")
        return _crisis(request, a)
    if a.assignment.status != AssignmentStatus.ANSWERED:
        return redirect(a.answer_url)
    _audit_read(request, a, "done")
    return render(request, "delivery/thanks.html", {"a": a, "next_step": _next_step(request, a)})


# --- Routes -------------------------------------------------------------------------------------


def link_session(
    view: Callable[[HttpRequest, Answering], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        try:
            answering = _link_answering(request)
        except NoAnsweringSession:
            return render(request, "delivery/link_problem.html", {"message": SESSION_ENDED}, status=403)
        return view(request, answering)

    return wrapper


@require_http_methods(["GET", "POST"])
@private_page
@link_session
def link_answer(request: HttpRequest, a: Answering) -> HttpResponse:
    return _question(request, a)


@require_http_methods(["GET", "POST"])
@private_page
@link_session
def link_review(request: HttpRequest, a: Answering) -> HttpResponse:
    return _review(request, a)


@require_GET
@private_page
@link_session
def link_done(request: HttpRequest, a: Answering) -> HttpResponse:
    return _done(request, a)


@require_http_methods(["GET", "POST"])
@private_page
@client_required
def portal_answer(request: AuthenticatedHttpRequest, assignment_id: int) -> HttpResponse:
    return _question(request, _portal_answering(request, assignment_id))


@require_http_methods(["GET", "POST"])
@private_page
@client_required
def portal_review(request: AuthenticatedHttpRequest, assignment_id: int) -> HttpResponse:
    return _review(request, _portal_answering(request, assignment_id))


@require_GET
@private_page
@client_required
def portal_done(request: AuthenticatedHttpRequest, assignment_id: int) -> HttpResponse:
    return _done(request, _portal_answering(request, assignment_id))
