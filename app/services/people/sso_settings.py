"""Single sign-on settings: the OpenID provider (discovery URL, client id and secret), what to do
with people Rungs does not know, SSO-only mode, and the one break-glass head of product.

The provider's settings live in the `settings` table under "sso"; the client secret is sealed
there (app/infra/secret_box, with a key derived from SECRET_KEY), and never shown back nor
audited: pages and audit rows say only "set" or "not set". The break-glass account lives under a
key of its own ("sso_break_glass"), set only from the command line, so that no page (and no one
who took over a head's session) can choose who keeps a password when passwords are off.

The "Test" button's checks are in sso_discovery.py.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import String, cast, func, literal, select, update

from app import policy
from app.core.errors import ValidationError
from app.extensions import db
from app.infra import secret_box
from app.infra.text import unwanted_character
from app.models import ExternalIdentity, Role, Setting, User
from app.models.user import new_session_token
from app.services import org_settings
from app.services.people import find_by_email
from app.services.people.sso_discovery import WELL_KNOWN, DiscoveryCheck, is_loopback, issuer_of

SETTING_KEY = "sso"
BREAK_GLASS_KEY = "sso_break_glass"
CALLBACK_PATH = "/login/sso/callback"
URL_MAX = 500
CLIENT_ID_MAX = 255
SECRET_MAX = 500
PROVIDER_NAME_MAX = 40
SEALED_PURPOSE = "sso-client-secret"  # secret_box label


class UnknownPeople(enum.StrEnum):
    """What happens when someone the provider vouches for is not in Rungs."""

    REFUSE = "refuse"
    CREATE = "create"

    @property
    def label(self) -> str:
        if self is UnknownPeople.REFUSE:
            return "Refuse them: the head of product adds people first"
        return "Add them as product managers without a manager, to be placed"


@dataclass(frozen=True)
class SsoSettings:
    """What is stored, with the client secret kept inside: pages read only `secret_hint`."""

    provider_name: str = ""
    discovery_url: str = ""
    client_id: str = ""
    client_secret: str = ""
    unknown_people: UnknownPeople = UnknownPeople.REFUSE
    is_sso_only: bool = False
    # Whom "add them" may add: addresses at these domains only (none: any the provider vouches for).
    allowed_domains: tuple[str, ...] = ()
    # What the last discovery check of this very URL found wrong ("" when it passed or none ran).
    check_problem: str = ""

    @property
    def is_configured(self) -> bool:
        return bool(self.discovery_url and self.client_id and self.client_secret)

    @property
    def secret_hint(self) -> str:
        """All a page or an audit row says of the secret: whether there is one."""
        return "set" if self.client_secret else "not set"

    @property
    def expected_issuer(self) -> str:
        """The issuer the discovery URL belongs to (OpenID Connect Discovery 1.0, §4.3)."""
        return issuer_of(self.discovery_url)

    def shown(self) -> dict[str, Any]:
        """The audited view: everything but the secret, which appears only as its hint."""
        return {
            "key": SETTING_KEY,
            "provider_name": self.provider_name,
            "discovery_url": self.discovery_url,
            "client_id": self.client_id,
            "client_secret": self.secret_hint,
            "unknown_people": self.unknown_people.value,
            "allowed_domains": list(self.allowed_domains),
            "sso_only": self.is_sso_only,
        }


def redirect_uri() -> str:
    """The callback to register at the provider: RUNGS_BASE_URL, never the host a request named."""
    return current_app.config["RUNGS_BASE_URL"].rstrip("/") + CALLBACK_PATH


def stored() -> SsoSettings:
    row = db.session.get(Setting, SETTING_KEY)
    value = row.value if row is not None and isinstance(row.value, dict) else {}
    try:
        unknown = UnknownPeople(value.get("unknown_people") or UnknownPeople.REFUSE)
    except ValueError:
        unknown = UnknownPeople.REFUSE
    return SsoSettings(
        provider_name=str(value.get("provider_name") or ""),
        discovery_url=str(value.get("discovery_url") or ""),
        client_id=str(value.get("client_id") or ""),
        client_secret=_opened(str(value.get("client_secret") or "")),
        unknown_people=unknown,
        is_sso_only=value.get("sso_only") is True,
        allowed_domains=tuple(
            str(d) for d in (value.get("allowed_domains") or []) if isinstance(d, str)
        ),
        check_problem=_check_problem(value),
    )


def _keys() -> list[str]:
    config = current_app.config
    return [config["SECRET_KEY"], *(config.get("SECRET_KEY_FALLBACKS") or [])]


def _sealed(secret: str) -> str:
    return secret_box.seal(secret, keys=_keys(), purpose=SEALED_PURPOSE) if secret else ""


def _opened(stored_secret: str) -> str:
    """The client secret; "" (not set: the head enters it again) when it was sealed with a key
    this app no longer has. One stored before sealing began is read as it is."""
    if not stored_secret.startswith(secret_box.PREFIX):
        return stored_secret
    try:
        return secret_box.open_sealed(stored_secret, keys=_keys(), purpose=SEALED_PURPOSE)
    except secret_box.SecretUnreadableError:
        current_app.logger.warning("The SSO client secret cannot be opened with SECRET_KEY.")
        return ""


def _check_problem(value: dict[str, Any]) -> str:
    last = value.get("last_check")
    if not isinstance(last, dict) or last.get("url") != value.get("discovery_url"):
        return ""
    return str(last.get("problem") or "")


def settings_for(actor: User) -> SsoSettings:
    policy.authorize(actor, "settings.manage")
    return stored()


@dataclass(frozen=True)
class SsoInput:
    """What the settings form sends; a blank secret keeps the stored one."""

    provider_name: str
    discovery_url: str
    client_id: str
    client_secret: str
    unknown_people: str
    allowed_domains: str = ""  # separated by spaces or commas


class SettingsErrors(ValidationError):
    """Every field the settings form got wrong, each with its message (shown in one pass)."""

    def __init__(self, problems: list[ValidationError]):
        super().__init__(problems[0].message, field=problems[0].field)
        self.problems = problems


def url_to_check(data: SsoInput) -> str | None:
    """The discovery URL the form names, completed, when it is a usable one (None otherwise):
    the caller checks it, outside any transaction, before `save_settings`."""
    try:
        return check_discovery_url(data.discovery_url)
    except ValidationError:
        return None


def save_settings(
    actor: User, data: SsoInput, *, check: DiscoveryCheck | None = None
) -> SsoSettings:
    """Set the provider and the policy for unknown people (SSO-only is switched apart). Audited
    without the secret. `check` is the discovery check of this URL, made by the caller outside
    the transaction: while sign-in is SSO-only a failing one is refused (it would lock everyone
    out); otherwise the settings are kept and the page warns beside the URL (the sign-in page
    offers no provider button until a check passes). The caller commits."""
    policy.authorize(actor, "settings.manage")
    current = stored()
    wanted = _checked(data, current)
    problem = _problem_of(check, wanted.discovery_url)
    if current.is_sso_only and problem is not None:
        raise ValidationError(
            "Sign-in is SSO-only, so this provider must work before it is saved (or nobody but "
            f"the break-glass account could sign in). {problem}",
            field="discovery_url",
        )
    is_checked = check is not None and check.discovery_url == wanted.discovery_url
    if is_checked:
        wanted = replace(wanted, check_problem=problem or "")
    _store(actor, current, wanted, checked_url=wanted.discovery_url if is_checked else None)
    return wanted


def _problem_of(check: DiscoveryCheck | None, url: str) -> str | None:
    """None when `check` passed for `url`; otherwise what is wrong ("" if nothing was said)."""
    if check is None or check.discovery_url != url:
        return "The provider's configuration could not be checked."
    if check.is_ok:
        return None
    return next((r.message for r in check.results if not r.is_ok), "The check failed.")


def _checked(data: SsoInput, current: SsoSettings) -> SsoSettings:
    problems: list[ValidationError] = []

    def attempt(check, *args):
        try:
            return check(*args)
        except ValidationError as error:
            problems.append(error)
            return ""

    name = attempt(_check_provider_name, data.provider_name)
    url = attempt(check_discovery_url, data.discovery_url)
    client_id = attempt(_check_token_like, data.client_id, "client id", CLIENT_ID_MAX, "client_id")
    secret = data.client_secret.strip()
    if secret:
        secret = attempt(_check_token_like, secret, "client secret", SECRET_MAX, "client_secret")
    elif not current.client_secret:
        problems.append(
            ValidationError("Enter the client secret the provider gave you.", field="client_secret")
        )
    elif url and _server(url) != _server(current.discovery_url):
        problems.append(
            ValidationError(
                "Type the client secret again: the discovery URL now names another server, and "
                "the stored secret was given for the old one.",
                field="client_secret",
            )
        )
    else:
        secret = current.client_secret
    try:
        unknown = UnknownPeople(data.unknown_people)
    except ValueError:
        problems.append(
            ValidationError(
                "Choose what happens to people Rungs does not know.", field="unknown_people"
            )
        )
        unknown = UnknownPeople.REFUSE
    domains = attempt(_check_domains, data.allowed_domains) or ()
    if problems:
        raise SettingsErrors(problems)
    return SsoSettings(
        provider_name=name,
        discovery_url=url,
        client_id=client_id,
        client_secret=secret,
        unknown_people=unknown,
        is_sso_only=current.is_sso_only,
        allowed_domains=domains,
    )


DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
DOMAINS_MAX = 20


def _check_domains(typed: str) -> tuple[str, ...]:
    domains = tuple(dict.fromkeys(d.lstrip("@").lower() for d in re.split(r"[\s,]+", typed) if d))
    bad = [d for d in domains if not DOMAIN.fullmatch(d)]
    if bad or len(domains) > DOMAINS_MAX:
        raise ValidationError(
            f"List up to {DOMAINS_MAX} email domains such as example.com, separated by spaces or "
            f"commas{': ' + bad[0][:60] + ' is not one' if bad else ''}.",
            field="allowed_domains",
        )
    return domains


def _server(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def record_check(actor: User, check: DiscoveryCheck) -> None:
    """Remember what the Test button found for the stored URL (the page warns beside the URL,
    and the sign-in page offers the provider only once a check passed). Not audited: nothing
    was changed."""
    policy.authorize(actor, "settings.manage")
    row = db.session.get(Setting, SETTING_KEY)
    if row is None or not isinstance(row.value, dict):
        return
    problem = _problem_of(check, check.discovery_url)
    row.value = {**row.value, "last_check": {"url": check.discovery_url, "problem": problem}}
    db.session.flush()


def remove_settings(actor: User) -> None:
    """Forget the provider (and its secret): sign-in goes back to passwords only."""
    policy.authorize(actor, "settings.manage")
    current = stored()
    if current.is_sso_only:
        raise ValidationError(
            "Sign-in is SSO-only: turn SSO-only off first, so that people can use passwords again."
        )
    _store(actor, current, SsoSettings())


def set_sso_only(actor: User, is_on: bool, *, check: DiscoveryCheck | None = None) -> SsoSettings:
    """Turn SSO-only on (passwords off, but for the break-glass account) or off. On needs a
    configuration whose discovery check just passed (`check`, made by the caller outside the
    transaction, of the URL stored now: refused if another save changed it meanwhile) and a
    break-glass head of product."""
    policy.authorize(actor, "settings.manage")
    current = stored()
    if is_on:
        _check_ready_for_sso_only(current, check)
    wanted = replace(current, is_sso_only=is_on)
    _store(actor, current, wanted)
    if is_on and not current.is_sso_only:
        _end_password_sessions(actor)
    return wanted


def _end_password_sessions(actor: User) -> None:
    """Sign everyone out (everywhere, remembered browsers too) but the head turning SSO-only on
    and the break-glass account: a session begun with a password must not outlive passwords.
    One UPDATE; each token stays unique (a fresh random part, then the person's id)."""
    keep = [actor.id]
    glass = break_glass_person()
    if glass is not None:
        keep.append(glass.id)
    fresh = new_session_token() + "."
    db.session.execute(
        update(User)
        .where(User.id.not_in(keep))
        .values(session_token=literal(fresh) + cast(User.id, String))
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()


def _check_ready_for_sso_only(current: SsoSettings, check: DiscoveryCheck | None) -> None:
    if not current.is_configured:
        raise ValidationError(
            "Set the provider first (discovery URL, client id and secret): with passwords off, "
            "single sign-on is the way in."
        )
    if check is not None and check.discovery_url != current.discovery_url:
        raise ValidationError(
            "The provider's settings changed while they were being checked. Try again."
        )
    if check is None or not check.is_ok:
        problem = next((r.message for r in (check.results if check else []) if not r.is_ok), "")
        raise ValidationError(
            f"The provider's configuration does not work yet, so passwords stay on. {problem}"
        )
    if break_glass_person() is None:
        raise ValidationError(
            "Set a break-glass head of product first, from the command line: "
            "flask sso break-glass EMAIL. With passwords off, that one account still signs in "
            "with its password if the provider fails."
        )


def _store(
    actor: User | None, before: SsoSettings, after: SsoSettings, *, checked_url: str | None = None
) -> None:
    row = db.session.get(Setting, SETTING_KEY)
    last = row.value.get("last_check") if row is not None and isinstance(row.value, dict) else None
    if checked_url is not None:
        last = {"url": checked_url, "problem": after.check_problem or None}
    value = {
        "last_check": last,
        "provider_name": after.provider_name,
        "discovery_url": after.discovery_url,
        "client_id": after.client_id,
        "client_secret": _sealed(after.client_secret),  # at rest: sealed (app/infra/secret_box)
        "unknown_people": after.unknown_people.value,
        "allowed_domains": list(after.allowed_domains),
        "sso_only": after.is_sso_only,
    }
    org_settings.save(
        actor,
        SETTING_KEY,
        value,
        action="settings.sso_changed",
        before=before.shown(),
        after=after.shown(),
    )


def _check_provider_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValidationError(
            "Name the provider as people know it (Okta, Google…): the sign-in button shows it.",
            field="provider_name",
        )
    if len(name) > PROVIDER_NAME_MAX or unwanted_character(name):
        raise ValidationError(
            f"Use at most {PROVIDER_NAME_MAX} characters, without control characters.",
            field="provider_name",
        )
    return name


def _check_token_like(value: str, what: str, longest: int, field: str) -> str:
    value = value.strip()
    if not value:
        raise ValidationError(f"Enter the {what} the provider gave you.", field=field)
    if len(value) > longest or any(c.isspace() or not c.isprintable() for c in value):
        raise ValidationError(
            f"That is not a {what}: paste it as the provider shows it (at most {longest} "
            "characters, no spaces).",
            field=field,
        )
    return value


def check_discovery_url(url: str) -> str:
    """An https URL (http only on this machine's loopback) ending in the discovery document's
    path; an issuer URL gets the path added."""
    url = url.strip()
    parts = urlsplit(url)
    if (
        not url
        or len(url) > URL_MAX
        or unwanted_character(url)
        or parts.scheme not in ("https", "http")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or parts.username
    ):
        raise ValidationError(
            "Enter the provider's discovery URL, such as "
            "https://login.example.com/.well-known/openid-configuration.",
            field="discovery_url",
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValidationError(
            "Use https: over plain http the client secret and the tokens would cross the "
            "network readable.",
            field="discovery_url",
        )
    if not parts.path.endswith(WELL_KNOWN):
        url = url.rstrip("/") + WELL_KNOWN
    return url


# --- the break-glass account (command line only) ----------------------------------------------


def break_glass_person() -> User | None:
    """The break-glass account, while it is an active head of product (otherwise none)."""
    row = db.session.get(Setting, BREAK_GLASS_KEY)
    user_id = row.value.get("user_id") if row is not None and isinstance(row.value, dict) else None
    person = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if person is None or not person.is_active or person.role is not Role.HEAD:
        return None
    return person


def set_break_glass(email: str) -> User:
    """Make this active head of product the one account that keeps its password when sign-in is
    SSO-only (from the command line; audited as the system)."""
    person = find_by_email(email) if not unwanted_character(email) else None
    if person is None:
        raise ValidationError(f"No one in Rungs has the email address {email.strip()[:254]}.")
    if not person.is_active:
        raise ValidationError(f"{person.name} is deactivated: choose an active head of product.")
    if person.role is not Role.HEAD:
        raise ValidationError(
            f"{person.name} is a {person.role.label.lower()}: the break-glass account must be a "
            "head of product."
        )
    _store_break_glass(person)
    return person


def clear_break_glass() -> None:
    """No break-glass account; refused while sign-in is SSO-only (nobody could use a password)."""
    if stored().is_sso_only:
        raise ValidationError(
            "Sign-in is SSO-only: turn SSO-only off on the Sign-in settings page first, or set "
            "another break-glass account instead."
        )
    _store_break_glass(None)


def _store_break_glass(person: User | None) -> None:
    before = break_glass_person()
    org_settings.save(
        None,
        BREAK_GLASS_KEY,
        {"user_id": person.id if person else None},
        action="settings.sso_break_glass_changed",
        before={"email": before.email if before else None},
        after={"email": person.email if person else None},
    )


# --- the settings page ------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingsPage:
    """What the Sign-in settings page shows (the secret only as its hint)."""

    settings: SsoSettings
    redirect_uri: str
    post_logout_redirect_uri: str
    break_glass: User | None
    linked_people: int


def settings_page(actor: User) -> SettingsPage:
    settings = settings_for(actor)
    linked = db.session.execute(
        select(func.count(func.distinct(ExternalIdentity.user_id)))
    ).scalar_one()
    return SettingsPage(
        settings=settings,
        redirect_uri=redirect_uri(),
        post_logout_redirect_uri=post_logout_redirect_uri(),
        break_glass=break_glass_person(),
        linked_people=linked,
    )


def post_logout_redirect_uri() -> str:
    """Where the provider sends people after its own sign-out: Rungs' sign-in page."""
    return current_app.config["RUNGS_BASE_URL"].rstrip("/") + "/login"
