"""Who is calling the API: a Bearer token and nothing else (never the cookie session), its
owner as `current_user` for the request, the token's scope, rate limit and use audit."""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request
from flask.sessions import SecureCookieSessionInterface

from app.errors import API_PREFIX, problem
from app.extensions import login_manager
from app.models.base import utcnow
from app.models.identity import ApiScope
from app.services.api import tokens, usage
from app.services.api.tokens import TokenError, TokenProblem

from .core import SAFE_METHODS

DETAILS = {
    TokenProblem.MISSING: "Send a personal access token: Authorization: Bearer rungs_…",
    TokenProblem.MALFORMED: "The Authorization header must be 'Bearer ' and a rungs_ token.",
    TokenProblem.UNKNOWN: "That token is not known: it may have been mistyped.",
    TokenProblem.REVOKED: "That token was revoked; make a new one under Your settings.",
    TokenProblem.EXPIRED: "That token has expired; make a new one under Your settings.",
    TokenProblem.OWNER_INACTIVE: "That token's owner no longer has access to Rungs.",
}


class SessionInterface(SecureCookieSessionInterface):
    """The cookie session, except under /api/v1/: there it is neither read nor written, so a
    browser's cookie grants nothing (no CSRF exposure) and no answer sets a cookie."""

    def open_session(self, app: Flask, request):
        if request.path.startswith(API_PREFIX):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session, response: Response) -> None:
        if is_token_request():
            return
        super().save_session(app, session, response)


def is_token_request() -> bool:
    """Under /api/v1/: the token decides, the cookie session is not looked at."""
    return request.path.startswith(API_PREFIX)


def _bearer() -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return "malformed"  # not a rungs_ token: refused as malformed
    return secret.strip()


def _unauthenticated(reason: TokenProblem) -> Response:
    challenge = 'Bearer realm="rungs"'
    if reason is not TokenProblem.MISSING:
        challenge += ', error="invalid_token"'
    return problem(401, DETAILS[reason], headers={"WWW-Authenticate": challenge})


def authenticate() -> Response | None:
    """before_request, ahead of access.enforce: under /api/v1/, the token's owner (or no one)
    is the current user; a bad token, a spent rate limit or a read token's write is answered."""
    if not is_token_request():
        return None
    login_manager._update_request_context_with_user(None)  # the cookie never counts here
    if request.endpoint is None:
        return None  # no such route (404) or method (405): answered by the error handlers
    if getattr(current_app.view_functions[request.endpoint], "is_public", False):
        return None
    try:
        token = tokens.authenticate(_bearer())
    except TokenError as error:
        if error.token_id is not None:  # a known token that no longer works: worth seeing
            _record(error.token_id, 401, mark_used=False)
        return _unauthenticated(error.problem)
    owner_id, scope, token_id = token.user_id, token.scope, token.id
    g.api_token_id = token_id
    g.api_rate = rate = usage.count_request(token_id, limit=current_app.config["API_RATE_LIMIT"])
    login_manager._update_request_context_with_user(tokens.person(owner_id))
    if rate.is_over:
        wait = rate.seconds_to_reset(utcnow())
        return problem(
            429,
            f"This token made more than {rate.limit} requests this minute; try again in {wait} s.",
            headers={"Retry-After": str(wait)},
        )
    if request.method not in SAFE_METHODS and scope is not ApiScope.READ_WRITE:
        return problem(
            403,
            "This token may only read; make a read-and-write token to change things.",
            slug="insufficient-scope",
            headers={"WWW-Authenticate": 'Bearer realm="rungs", error="insufficient_scope"'},
        )
    return None


def finish(response: Response) -> Response:
    """after_request: rate-limit headers, and the use audited once its status is known."""
    if not is_token_request() or "api_token_id" not in g:
        return response
    rate = g.api_rate
    response.headers["RateLimit-Limit"] = str(rate.limit)
    response.headers["RateLimit-Remaining"] = str(rate.remaining)
    response.headers["RateLimit-Reset"] = str(rate.seconds_to_reset(utcnow()))
    response.headers["RateLimit-Policy"] = f"{rate.limit};w={usage.WINDOW_SECONDS}"
    response.headers["Vary"] = "Authorization"
    _record(g.api_token_id, response.status_code)
    return response


def _record(token_id: int, status: int, *, mark_used: bool = True) -> None:
    recorded = usage.record_use(
        token_id,
        method=request.method,
        path=request.path,
        status=status,
        client=request.remote_addr or "unknown",
        mark_used=mark_used,
    )
    if not recorded:
        current_app.logger.warning(
            "API use of token %s not audited (%s %s)", token_id, request.method, request.path
        )
