"""Slack: a bot token (or an incoming webhook) set by the head of product; people's Slack ids
found by their email address; direct messages sent from the outbox.

The settings live in the `settings` table under "slack" and are never shown back in full (a
hint of the last characters). A bot token sends personal messages (DMs, `chat.postMessage`) and
finds people (`users.lookupByEmail`); a webhook alone posts to its one channel, so it only ever
carries what everyone may see (slack_announcements.py), never a personal message.

Every call to Slack goes through the official slack_sdk with SLACK_API_URL as its base (tests
point it at a local server that answers as Slack does), without the SDK's own retries: the
outbox retries a failed message later, and the request that pressed "Test" answers at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from app import policy
from app.core.errors import ValidationError
from app.extensions import db
from app.models import OutboundMessage, Setting, User
from app.services import org_settings

SETTING_KEY = "slack"
TIMEOUT_SECONDS = 10
WEBHOOK_HOSTS = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})
TOKEN_MAX = 255
# The `address` of an outbox row meant for the webhook's channel (slack_announcements.py), not a
# person: no Slack user id looks like it.
WEBHOOK_ADDRESS = "#webhook"
WEBHOOK_MAX = 500
# Slack truncates a message's text past 40,000 characters; a long digest is cut before that,
# keeping its link (the whole list is in Rungs).
TEXT_MAX = 39_000

# Slack's error codes that sending again cannot fix (the token, the person or the app must
# change first); anything else (rate limits, Slack's own trouble, the network) is worth a retry.
PERMANENT_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "not_allowed_token_type",
        "channel_not_found",
        "user_not_found",
        "users_not_found",
        "user_disabled",
        "cannot_dm_bot",
        "is_archived",
        "msg_too_long",
        "no_text",
        "invalid_blocks",
        "restricted_action",
        "ekm_access_denied",
        "team_access_not_granted",
        "invalid_arguments",
        "not_in_channel",
        # webhook answers (HTTP 400/403/404/410 with a plain-text code)
        "invalid_payload",
        "action_prohibited",
        "no_service",
        "no_service_id",
        "no_team",
        "team_disabled",
        "channel_is_archived",
        "posting_to_general_channel_denied",
        "invalid_token",
    }
)


class SlackError(Exception):
    """Slack refused or could not be reached. `retryable` says whether sending the same thing
    later may work (rate limited, Slack or the network failing) or not (a revoked token, a
    person not in the workspace); `retry_after` is Slack's own wait in seconds, when it gave
    one; `code` is Slack's error code (or a word of ours: "not_configured", "network")."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "error",
        retryable: bool = True,  # when in doubt, the outbox tries again (and gives up in time)
        retry_after: int | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable
        self.retry_after = retry_after


@dataclass(frozen=True)
class SlackSettings:
    """What is stored, with the secrets kept inside: pages read only the hints."""

    token: str = ""
    webhook_url: str = ""
    updated_at: str = ""

    @property
    def has_token(self) -> bool:
        return bool(self.token)

    @property
    def has_webhook(self) -> bool:
        return bool(self.webhook_url)

    @property
    def is_on(self) -> bool:
        return self.has_token or self.has_webhook

    @property
    def token_hint(self) -> str:
        return _hint(self.token, self.token.split("-", 1)[0] + "-") if self.token else ""

    @property
    def webhook_hint(self) -> str:
        if not self.webhook_url:
            return ""
        parts = urlsplit(self.webhook_url)
        return _hint(self.webhook_url, f"{parts.scheme}://{parts.netloc}/")


def _hint(secret: str, prefix: str) -> str:
    """The start everyone knows and the last four characters: enough to tell two apart."""
    return f"{prefix}…{secret[-4:]}"


def stored() -> SlackSettings:
    row = db.session.get(Setting, SETTING_KEY)
    if row is None or not isinstance(row.value, dict):
        return SlackSettings()
    value = row.value
    return SlackSettings(
        token=str(value.get("token") or ""),
        webhook_url=str(value.get("webhook_url") or ""),
        updated_at=row.updated_at.isoformat(),
    )


def settings_for(actor: User) -> SlackSettings:
    policy.authorize(actor, "settings.manage")
    return stored()


def save_settings(
    actor: User,
    *,
    token: str | None = None,
    webhook_url: str | None = None,
    remove_token: bool = False,
    remove_webhook: bool = False,
) -> SlackSettings:
    """Set (or remove) the bot token and the webhook; a blank value keeps what is stored, as
    the form never shows it back. Audited without the secrets. The caller commits."""
    policy.authorize(actor, "settings.manage")
    current = stored()
    new_token = "" if remove_token else (check_token(token) if token else current.token)
    new_webhook = (
        ""
        if remove_webhook
        else (check_webhook(webhook_url) if webhook_url else current.webhook_url)
    )
    after = SlackSettings(new_token, new_webhook)
    org_settings.save(
        actor,
        SETTING_KEY,
        {"token": new_token, "webhook_url": new_webhook},
        action="settings.slack_changed",
        before=_shown(current),
        after=_shown(after),
    )
    return stored()


def _shown(settings: SlackSettings) -> dict[str, str]:
    """What the audit log may keep of the settings: hints, never the secrets."""
    return {"token": settings.token_hint, "webhook": settings.webhook_hint}


def check_token(token: str) -> str:
    token = token.strip()
    if not token.startswith("xoxb-"):
        raise ValidationError(
            "A bot token starts with xoxb- (Slack shows it under OAuth & Permissions).",
            field="token",
        )
    if len(token) > TOKEN_MAX or any(c.isspace() or not c.isprintable() for c in token):
        raise ValidationError(
            "That is not a Slack token: paste it as Slack shows it.", field="token"
        )
    return token


def check_webhook(url: str) -> str:
    """An https URL of Slack's webhooks (or of SLACK_API_URL's host, where a test's or a proxy's
    Slack answers): Rungs posts only there, so the setting cannot point it anywhere else."""
    url = url.strip()
    parts = urlsplit(url)
    api = urlsplit(current_app.config["SLACK_API_URL"])
    is_slack = parts.scheme == "https" and parts.hostname in WEBHOOK_HOSTS
    is_api_host = (parts.scheme, parts.netloc) == (api.scheme, api.netloc)
    if len(url) > WEBHOOK_MAX or not (is_slack or is_api_host) or len(parts.path) < 2:
        raise ValidationError(
            "An incoming webhook URL starts with https://hooks.slack.com/services/.",
            field="webhook_url",
        )
    return url


def client(token: str) -> WebClient:
    return WebClient(
        token=token,
        base_url=current_app.config["SLACK_API_URL"],
        timeout=TIMEOUT_SECONDS,
        retry_handlers=[],
    )


def bot_client() -> WebClient:
    """A client with the stored bot token, or a non-retryable SlackError without one."""
    token = stored().token
    if not token:
        raise SlackError(
            "Slack has no bot token: the head of product sets one on the Messages page.",
            code="not_configured",
            retryable=False,
        )
    return client(token)


def call(request) -> Any:
    """Run one SDK call, turning whatever goes wrong into a SlackError that says what happened
    and whether trying again later may help."""
    try:
        return request()
    except SlackApiError as error:
        raise _api_error(error) from error
    except (SlackClientError, OSError, ValueError) as error:
        raise SlackError(
            f"Slack could not be reached: {error}", code="network", retryable=True
        ) from error


def _api_error(error: SlackApiError) -> SlackError:
    response = error.response
    status = getattr(response, "status_code", 0)
    data = response.data if isinstance(getattr(response, "data", None), dict) else {}
    code = str(data.get("error") or f"http_{status}")
    if status == 429 or code == "ratelimited":
        wait = _retry_after(response.headers)
        return SlackError(
            f"Slack is rate limiting Rungs (try again in {wait or 'a few'} seconds).",
            code="ratelimited",
            retryable=True,
            retry_after=wait,
        )
    if status >= 500 and code not in PERMANENT_ERRORS:  # Slack's (or a proxy's) own trouble
        code = code if code.isidentifier() else f"http_{status}"
        return SlackError(f"Slack failed (HTTP {status}): {code}.", code=code, retryable=True)
    retryable = code not in PERMANENT_ERRORS
    what = "Slack refused" if not retryable else "Slack failed"
    return SlackError(f"{what}: {code[:80]}.", code=code[:80], retryable=retryable)


def _retry_after(headers: dict[str, Any]) -> int | None:
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            value = value[0] if isinstance(value, list) else value
            try:
                return max(0, int(value))
            except (TypeError, ValueError):
                return None
    return None


def send(message: OutboundMessage) -> None:
    """Send one queued Slack message as a direct message to its recipient (the Slack user id
    kept in `address` when it was queued). Raises SlackError, whose `retryable` says whether
    the outbox should try again. Personal messages never go to the webhook's channel."""
    if message.address == WEBHOOK_ADDRESS:
        _send_announcement(message)
        return
    if not message.address:
        raise SlackError(
            "The recipient has no linked Slack user.", code="not_linked", retryable=False
        )
    web = bot_client()
    call(
        lambda: web.chat_postMessage(
            channel=message.address,
            text=message_text(message.subject, message.body_text, message.link),
            unfurl_links=False,
            unfurl_media=False,
        )
    )


def _send_announcement(message: OutboundMessage) -> None:
    url = stored().webhook_url
    if not url:
        raise SlackError(
            "Slack has no webhook any more: the announcement has nowhere to go.",
            code="not_configured",
            retryable=False,
        )
    post_to_webhook(url, message_text(message.subject, message.body_text, message.link))


def message_text(subject: str, body: str, link: str) -> str:
    """Slack's mrkdwn: the subject in bold, the plain-text body, the one link."""
    lines = [f"*{escape(subject)}*"]
    if body.strip():
        body = escape(body.strip())
        lines.append(body if len(body) <= TEXT_MAX else body[:TEXT_MAX].rstrip() + " …")
    if link:
        lines.append(f"<{escape(link)}|Open in Rungs>")
    return "\n\n".join(lines)


def escape(text: str) -> str:
    """Slack treats &, < and > as markup (links, mentions): escaped as its docs ask."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def post_to_webhook(url: str, text: str) -> None:
    hook = WebhookClient(url, timeout=TIMEOUT_SECONDS)
    response = call(lambda: hook.send(text=text, unfurl_links=False, unfurl_media=False))
    if response.status_code == 200:
        return
    code = (response.body or f"http_{response.status_code}").strip()[:60]
    if response.status_code == 429:
        wait = _retry_after(response.headers)
        raise SlackError(
            "Slack is rate limiting the webhook.",
            code="ratelimited",
            retryable=True,
            retry_after=wait,
        )
    retryable = response.status_code >= 500 or code not in PERMANENT_ERRORS
    raise SlackError(f"Slack refused the webhook post: {code}.", code=code, retryable=retryable)


@dataclass(frozen=True)
class CheckResult:
    is_ok: bool
    message: str


def check_connection(settings: SlackSettings) -> list[CheckResult]:
    """The "Test" button: `auth.test` with the bot token (who Rungs is in which workspace) and a
    short post to the webhook's channel. Call it outside a database transaction."""
    results = []
    if settings.has_token:
        try:
            answer = call(lambda: client(settings.token).auth_test())
            results.append(
                CheckResult(
                    True,
                    f"The bot token works: Rungs is {answer.get('user')} in {answer.get('team')}.",
                )
            )
        except SlackError as error:
            results.append(CheckResult(False, f"The bot token does not work. {error.message}"))
    if settings.has_webhook:
        try:
            post_to_webhook(settings.webhook_url, "Rungs can post to this channel.")
            results.append(CheckResult(True, "The webhook posted a test message to its channel."))
        except SlackError as error:
            results.append(CheckResult(False, f"The webhook does not work. {error.message}"))
    return results
