"""`spacebetween setup`: the first run of a practice's own installation.

Creates the practice (name, country, time zone) and its first admin, in one transaction with their
audit rows, and prints a one-time sign-in link for the admin: no password ever goes on the command
line. The admin chooses a password and sets up an authenticator app at the link. Interactive when a
value is missing and stdin is a terminal; `--yes` for scripts. A second practice needs
`--another-practice`. `--reissue-link EMAIL` revokes that account's earlier links and prints a new one.
"""

from __future__ import annotations

import sys
import zoneinfo
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from spacebetween.accounts import welcome
from spacebetween.accounts.models import STAFF_ROLES, Role, SignInLink, User, normalise_email
from spacebetween.accounts.services import user_create
from spacebetween.practice.countries import is_country_code
from spacebetween.practice.models import Practice, known_time_zones
from spacebetween.practice.services import practice_create

PRACTICE_EXISTS = (
    "This installation already has a practice ({names}); setup made nothing. To add another practice "
    "to the same installation, run it again with --another-practice. To get a new sign-in link for an "
    "admin, run `spacebetween setup --reissue-link EMAIL`."
)
MISSING = (
    "Missing {fields}: give them as options (see `spacebetween setup --help`) or run setup in a terminal."
)
BAD_NAME = "--practice-name: the practice needs a name (at most 200 characters)."
BAD_COUNTRY = "--country: {value!r} is not an ISO 3166-1 alpha-2 country code (e.g. GB, IE, US, DE)."
BAD_TIME_ZONE = "--time-zone: {value!r} is not a known time zone (e.g. Europe/London)."
BAD_EMAIL = "--admin-email: {value!r} is not an email address."
EMAIL_TAKEN = "--admin-email: an account with this email address already exists. setup made nothing."
BAD_ADMIN_NAME = "--admin-name: the admin needs a name (at most 200 characters)."
NO_SUCH_ACCOUNT = "--reissue-link: there is no active staff account with the email address {value!r}."
ABORTED = "Nothing was made."

NEXT_STEPS = """
Sign-in link for {name} <{email}> (works once, until {expires}):

    {url}

Give it to them only: whoever opens it can set the account's password. They choose a password there,
then set up an authenticator app (the 6-digit codes every staff sign-in needs) and keep their recovery
codes. After that they sign in at {login} like anyone else, and add the practice's staff under
Practice -> Staff.

If the link expires or goes astray: spacebetween setup --reissue-link {email}
"""

FIELDS = (
    ("practice_name", "Practice name", ""),
    ("country", "Country (ISO 3166-1 alpha-2, e.g. GB)", "GB"),
    ("time_zone", "Time zone", "Europe/London"),
    ("admin_name", "First admin's full name", ""),
    ("admin_email", "First admin's email address", ""),
)


def _check_name(value: str, message: str) -> str:
    value = value.strip()
    if not value or len(value) > 200:
        raise CommandError(message)
    return value


def _check_country(value: str) -> str:
    code = value.strip().upper()
    if not is_country_code(code):
        raise CommandError(BAD_COUNTRY.format(value=value))
    return code


def _check_time_zone(value: str) -> str:
    value = value.strip()
    if value not in known_time_zones():
        raise CommandError(BAD_TIME_ZONE.format(value=value))
    return value


def _check_email(value: str) -> str:
    try:
        validate_email(value.strip())
    except ValidationError:
        raise CommandError(BAD_EMAIL.format(value=value)) from None
    email = normalise_email(value)
    if User.objects.filter(email=email).exists():
        raise CommandError(EMAIL_TAKEN)
    return email


CHECKS: dict[str, Callable[[str], str]] = {
    "practice_name": lambda v: _check_name(v, BAD_NAME),
    "country": _check_country,
    "time_zone": _check_time_zone,
    "admin_name": lambda v: _check_name(v, BAD_ADMIN_NAME),
    "admin_email": _check_email,
}


class Command(BaseCommand):
    help = "Create the practice and its first admin, and print a one-time sign-in link for the admin."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--practice-name", help="the practice's name")
        parser.add_argument("--country", help="ISO 3166-1 alpha-2 country code (GB, IE, US, ...)")
        parser.add_argument("--time-zone", help="IANA time zone (Europe/London, ...)")
        parser.add_argument("--admin-name", help="the first admin's full name")
        parser.add_argument("--admin-email", help="the first admin's email address (their sign-in name)")
        parser.add_argument(
            "--yes",
            "--no-input",
            action="store_true",
            dest="yes",
            help="ask nothing: every value comes from the options (for scripts)",
        )
        parser.add_argument(
            "--another-practice",
            action="store_true",
            help="add a further practice to an installation that already has one",
        )
        parser.add_argument(
            "--reissue-link",
            metavar="EMAIL",
            help="revoke that staff account's earlier sign-in links and print a new one",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["reissue_link"]:
            self._reissue(options["reissue_link"])
            return
        existing = list(Practice.objects.order_by("pk").values_list("name", flat=True)[:3])
        if existing and not options["another_practice"]:
            raise CommandError(PRACTICE_EXISTS.format(names=", ".join(existing)))
        interactive = not options["yes"] and sys.stdin.isatty()
        values = self._collect(options, interactive)
        if interactive and not self._confirm(values):
            raise CommandError(ABORTED)
        try:
            with transaction.atomic():
                practice = practice_create(
                    name=values["practice_name"], country=values["country"], time_zone=values["time_zone"]
                )
                admin = user_create(
                    practice=practice,
                    email=values["admin_email"],
                    full_name=values["admin_name"],
                    role=Role.ADMIN,
                    password=None,
                )
                token, link = welcome.link_issue(user=admin, detail="first admin")
        except ValidationError as exc:
            raise CommandError(f"{'; '.join(exc.messages)} setup made nothing.") from None
        self.stdout.write(f"Created the practice {practice.name} and its admin {admin.email}.")
        self._print_link(admin, token, link)

    def _collect(self, options: dict[str, Any], interactive: bool) -> dict[str, str]:
        values: dict[str, str] = {}
        missing = []
        for field, prompt, default in FIELDS:
            given = options.get(field)
            if given is None and interactive:
                values[field] = self._ask(field, prompt, default)
                continue
            if given is None:
                missing.append("--" + field.replace("_", "-"))
                continue
            values[field] = CHECKS[field](given)
        if missing:
            raise CommandError(MISSING.format(fields=", ".join(missing)))
        return values

    def _ask(self, field: str, prompt: str, default: str) -> str:
        while True:
            shown = f"{prompt} [{default}]: " if default else f"{prompt}: "
            try:
                answer = input(shown).strip() or default
            except EOFError:
                raise CommandError(ABORTED) from None
            try:
                return CHECKS[field](answer)
            except CommandError as exc:
                self.stderr.write(str(exc))

    def _confirm(self, values: dict[str, str]) -> bool:
        self.stdout.write(
            f"\nPractice: {values['practice_name']} ({values['country']}, {values['time_zone']})\n"
            f"First admin: {values['admin_name']} <{values['admin_email']}>"
        )
        try:
            return input("Create them? [y/N]: ").strip().lower() in {"y", "yes"}
        except EOFError:
            return False

    def _reissue(self, email: str) -> None:
        user = User.objects.filter(
            email=normalise_email(email), is_active=True, role__in=list(STAFF_ROLES)
        ).first()
        if user is None:
            raise CommandError(NO_SUCH_ACCOUNT.format(value=email))
        token, link = welcome.link_issue(user=user, detail="reissued")
        self._print_link(user, token, link)

    def _print_link(self, user: User, token: str, link: SignInLink) -> None:
        expires = timezone.localtime(link.expires_at, timezone=zoneinfo.ZoneInfo(user.practice.time_zone))
        login = settings.SITE_URL.rstrip("/") + reverse("login")
        self.stdout.write(
            NEXT_STEPS.format(
                name=user.full_name,
                email=user.email,
                expires=f"{expires:%-d %B %Y at %H:%M} ({user.practice.time_zone})",
                url=welcome.link_url(token),
                login=login,
            )
        )
