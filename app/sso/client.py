"""The OpenID Connect client, with Authlib's Flask integration, built per request from the stored
settings (which the head of product may change at any time).

Authlib runs the authorization code flow with PKCE (S256), keeps the state, nonce and code
verifier in the Flask session until the provider sends the person back, exchanges the code, and
checks the ID token: its signature against the provider's keys (jwks_uri), its issuer (the one
the discovery document names, which must be the discovery URL's own), audience (Rungs' client
id), expiry, nonce and at_hash. Anything that goes wrong becomes an SsoFailure whose message
says what, in words, never with a token in it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.flask_client import FlaskIntegration, FlaskOAuth2App
from flask import current_app, session
from joserfc.errors import BadSignatureError, ClaimError, ExpiredTokenError, JoseError

from app.services.people import sso_discovery, sso_settings
from app.services.people.sso_settings import SsoSettings

NAME = "sso"
SCOPE = "openid email profile"
# Seconds of clock difference allowed between Rungs and the provider when checking expiry.
LEEWAY_SECONDS = 60
# The session's record of a sign-in through the provider, for its sign-out page.
SIGNED_IN_KEY = "sso_signed_in"
NEXT_KEY = "sso_next"
# A longer ID token (Entra ID's can carry many group claims) is not kept for id_token_hint: the
# session cookie must stay under the browsers' 4 KB; the provider's sign-out then asks instead.
ID_TOKEN_HINT_MAX = 1800
USERINFO_CLAIMS = ("email", "email_verified", "name")


class SsoFailure(Exception):
    """The sign-in could not be completed; `message` says why, for the person and the audit.
    `is_attempt` is false when the request never was one of our sign-ins (no matching state).
    `status`: 400 for an answer that does not hold, 502 when the provider cannot be read."""

    def __init__(self, message: str, *, is_attempt: bool = True, status: int = 400):
        super().__init__(message)
        self.message = message
        self.is_attempt = is_attempt
        self.status = status


@dataclass(frozen=True)
class Completed:
    """The checked claims of the ID token (with what userinfo added) and their issuer."""

    issuer: str
    claims: dict[str, Any]
    id_token: str
    end_session_endpoint: str


def _client(settings: SsoSettings) -> FlaskOAuth2App:
    return FlaskOAuth2App(
        FlaskIntegration(NAME),
        name=NAME,
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        server_metadata_url=settings.discovery_url,
        client_kwargs={
            "scope": SCOPE,
            "code_challenge_method": "S256",
            "default_timeout": sso_discovery.TIMEOUT_SECONDS,
        },
    )


CACHE_KEY = "rungs.sso_metadata"
CACHE_SECONDS = 300


def _cache() -> dict[str, tuple[float, dict[str, Any]]]:
    return current_app.extensions.setdefault(CACHE_KEY, {})


def _cached(url: str) -> dict[str, Any] | None:
    entry = _cache().get(url)
    if entry is None or time.monotonic() - entry[0] > CACHE_SECONDS:
        return None
    return dict(entry[1])


def _keep(url: str, metadata: dict[str, Any]) -> None:
    """The checked discovery document (and, once fetched, Authlib's key set under "jwks") for
    CACHE_SECONDS: a visit to /login/sso, which anyone may make, does not fetch it each time."""
    entry = _cache().get(url)
    loaded = (
        entry[0]
        if entry is not None and entry[1].get("_loaded_at") == metadata.get("_loaded_at")
        else time.monotonic()
    )
    _cache()[url] = (loaded, dict(metadata))


def forget_metadata(url: str) -> None:
    """The Test button's fresh look: the next sign-in fetches the discovery document again."""
    _cache().pop(url, None)


def _metadata(client: FlaskOAuth2App, settings: SsoSettings) -> dict[str, Any]:
    """The discovery document, checked as the Test button checks it (kept for CACHE_SECONDS
    once it passed); the client then authenticates at the token endpoint in a way the provider
    says it supports."""
    cached = _cached(settings.discovery_url)
    if cached is not None:
        client.server_metadata.update(cached)  # carries "_loaded_at": Authlib fetches nothing
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError) as error:
        raise SsoFailure(
            f"Rungs could not read the provider's discovery document ({type(error).__name__}).",
            status=502,
        ) from error
    problems = sso_discovery.metadata_problems(metadata, settings.expected_issuer)
    if problems:
        forget_metadata(settings.discovery_url)
        raise SsoFailure(problems[0].message, status=502)
    _keep(settings.discovery_url, client.server_metadata)
    methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    if "client_secret_basic" not in methods and "client_secret_post" in methods:
        client.client_kwargs["token_endpoint_auth_method"] = "client_secret_post"  # noqa: S105
    return metadata


def start(settings: SsoSettings, next_path: str):
    """The redirect to the provider's authorization endpoint (state, nonce and PKCE kept in the
    session by Authlib)."""
    client = _client(settings)
    _metadata(client, settings)
    session[NEXT_KEY] = next_path
    return client.authorize_redirect(sso_settings.redirect_uri())


def finish(settings: SsoSettings) -> Completed:
    """Exchange the code the provider sent back and check the ID token; SsoFailure otherwise."""
    client = _client(settings)
    metadata = _metadata(client, settings)
    try:
        token = client.authorize_access_token(leeway=LEEWAY_SECONDS)
    except MismatchingStateError as error:
        raise SsoFailure(
            "This answer from the provider does not belong to a sign-in started in this browser "
            "(its state does not match), or that sign-in was already finished. Start again.",
            is_attempt=False,
        ) from error
    except (AuthlibBaseError, JoseError, requests.RequestException, ValueError) as error:
        raise SsoFailure(_explain(error)) from error
    _keep(settings.discovery_url, client.server_metadata)  # now with the key set ("jwks")
    claims = token.get("userinfo")
    if not token.get("id_token") or not claims:
        raise SsoFailure("The provider sent no ID token, so Rungs cannot tell who you are.")
    claims = dict(claims)
    if "email" not in claims and metadata.get("userinfo_endpoint"):
        claims = _with_userinfo(client, token, claims)
    return Completed(
        issuer=str(metadata["issuer"]),
        claims=claims,
        id_token=str(token["id_token"]),
        end_session_endpoint=str(metadata.get("end_session_endpoint") or ""),
    )


def _with_userinfo(client: FlaskOAuth2App, token: dict, claims: dict[str, Any]) -> dict:
    """Many providers put the email address in userinfo, not in the ID token; taken only for the
    same subject (OpenID Connect Core §5.3.2), never over what the ID token says."""
    try:
        extra = client.userinfo(token=token)
    except (AuthlibBaseError, requests.RequestException, ValueError) as error:
        raise SsoFailure(
            f"The provider's userinfo could not be read ({type(error).__name__})."
        ) from error
    if extra.get("sub") != claims.get("sub"):
        raise SsoFailure("The provider's userinfo is about someone else (another subject).")
    return {**{k: extra[k] for k in USERINFO_CLAIMS if k in extra}, **claims}


def _explain(error: Exception) -> str:
    """What went wrong, in words (the errors' own texts carry no tokens, but are kept short)."""
    if isinstance(error, ExpiredTokenError):
        return "The ID token had already expired. Check that this server's clock is right."
    if isinstance(error, BadSignatureError):
        return "The ID token's signature does not match the provider's keys."
    if isinstance(error, ClaimError):
        claim = getattr(error, "claim", "")
        return {
            "aud": "The ID token was issued for another application (its audience is not "
            "Rungs' client id).",
            "azp": "The ID token was issued for another application (authorized party).",
            "iss": "The ID token comes from another issuer than the configured provider.",
            "nonce": "The ID token does not answer this sign-in (nonce mismatch).",
        }.get(claim, f"The ID token was refused: {str(error)[:120]}.")
    if isinstance(error, JoseError):
        return f"The ID token could not be checked: {str(error)[:120]}."
    if isinstance(error, requests.RequestException):
        return f"Rungs could not reach the provider ({type(error).__name__})."
    if isinstance(error, AuthlibBaseError):
        code = str(error.error or "error")[:60]
        if code == "invalid_grant":
            return (
                "The provider refused the sign-in code: it was already used, has expired, or "
                "was not issued to Rungs. Start again."
            )
        if code == "invalid_client":
            return "The provider refused Rungs' client id or secret: check the Sign-in settings."
        description = str(error.description or "")[:160]
        return f"The provider answered “{code}”{': ' + description if description else ''}."
    return f"The provider's answer could not be read ({type(error).__name__})."


def remember_sign_in(person_id: int, provider_name: str, completed: Completed) -> None:
    """After login_user: what sign-out needs to offer the provider's own sign-out."""
    id_token = completed.id_token if len(completed.id_token) <= ID_TOKEN_HINT_MAX else ""
    session[SIGNED_IN_KEY] = {
        "user_id": person_id,
        "provider": provider_name,
        "id_token": id_token,
        "end_session": completed.end_session_endpoint,
    }


def take_next() -> str | None:
    return session.pop(NEXT_KEY, None)


def take_provider_sign_out(
    settings: SsoSettings, post_logout_redirect_uri: str, person_id: int
) -> tuple[str, str]:
    """On sign-out: the provider's name and end-session URL (with id_token_hint and the way back
    to /login) when this person's session began with the provider and it has one; ("", "")
    otherwise. Forgets the session's record either way."""
    signed_in = session.pop(SIGNED_IN_KEY, None)
    if not isinstance(signed_in, dict) or not signed_in.get("end_session"):
        return "", ""
    if signed_in.get("user_id") != person_id:  # left over from someone else's session
        return "", ""
    client = FlaskOAuth2App(
        FlaskIntegration(NAME),
        name=NAME,
        client_id=settings.client_id,
        end_session_endpoint=signed_in["end_session"],  # no discovery call on sign-out
    )
    extra = {"client_id": settings.client_id} if settings.client_id else {}
    url = client.create_logout_url(
        post_logout_redirect_uri=post_logout_redirect_uri,
        id_token_hint=signed_in.get("id_token") or None,
        **extra,
    )["url"]
    return str(signed_in.get("provider") or "your provider"), url
