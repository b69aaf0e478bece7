"""Single sign-on end to end: Rungs (the Flask test client) against a real OpenID Provider
(oidc-provider on loopback, tests/sso_provider.py), through the authorization code flow with
PKCE, state and nonce. Success, the protocol's refusals (state, a replayed code, a token for
another audience, an expired token), who may come in (verified email, unknown people under both
settings, deactivated people), SSO-only with its break-glass account, and sign-out."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, ExternalIdentity, LoginFailure, Role, Setting, User
from app.models.base import utcnow
from app.services.people import auth
from tests.factories import sign_in
from tests.sso_provider import CLIENT_SECRET, RP_BASE

PROVIDER = "TestOP"


@pytest.fixture(autouse=True)
def _rungs_at_rp_base(app, monkeypatch):
    """The redirect URI registered at the provider is RUNGS_BASE_URL's, as in production."""
    monkeypatch.setitem(app.config, "RUNGS_BASE_URL", RP_BASE)


@pytest.fixture(autouse=True)
def _no_cached_discovery(app):
    """The app may outlive a test: each starts without discovery documents kept by another."""
    app.extensions.pop("rungs.sso_metadata", None)


def configure(app, oidc, *, client_id="rungs", unknown="refuse", sso_only=False, url=None):
    with app.app_context():
        db.session.merge(
            Setting(
                key="sso",
                value={
                    "provider_name": PROVIDER,
                    "discovery_url": url or oidc.discovery_url,
                    "client_id": client_id,
                    "client_secret": CLIENT_SECRET,
                    "unknown_people": unknown,
                    "sso_only": sso_only,
                },
                updated_at=utcnow(),
            )
        )
        db.session.commit()


def break_glass(app, person) -> None:
    with app.app_context():
        db.session.merge(Setting(key="sso_break_glass", value={"user_id": person.id}))
        db.session.commit()


def sso_sign_in(client, oidc, login: str, *, next_path: str | None = None):
    """Start at Rungs, sign in at the provider as `login`, and come back: Rungs' answer."""
    start = client.get("/login/sso" + (f"?next={next_path}" if next_path else ""))
    assert start.status_code == 302, start.get_data(as_text=True)[:500]
    return client.get(oidc.authorize(start.headers["Location"], login))


def signed_in_as(client) -> str | None:
    home = client.get("/")
    if home.status_code != 200:
        return None
    return home.get_data(as_text=True)


def audit(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.execute(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            ).scalars()
        )


def user_by_email(app, email: str) -> User | None:
    with app.app_context():
        person = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
        if person is not None:
            db.session.expunge(person)
        return person


def _no_tokens_in(events: list[AuditEvent], *secrets: str) -> None:
    text = repr([(e.before, e.after) for e in events])
    for secret in secrets:
        assert secret not in text


# --- success --------------------------------------------------------------------------------


def test_an_existing_person_signs_in_with_the_provider_and_is_linked(app, client, org, oidc):
    configure(app, oidc)
    oidc.account("u-alice", email="alice@example.com", name="Alice at the provider")

    start = client.get("/login/sso?next=/evidence/")
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert query["state"] and query["nonce"] and query["client_id"] == ["rungs"]
    callback = oidc.authorize(start.headers["Location"], "u-alice")
    answer = client.get(callback)

    assert answer.status_code == 302 and answer.headers["Location"] == "/evidence/"
    assert "Alice Pm" in signed_in_as(client)  # Rungs' name, not the provider's
    with app.app_context():
        identity = db.session.execute(select(ExternalIdentity)).scalar_one()
        assert (identity.user_id, identity.issuer, identity.subject) == (
            org.pm_a1.id,
            oidc.issuer,
            "u-alice",
        )
    [signed_in] = audit(app, "person.signed_in")
    assert signed_in.actor_id == org.pm_a1.id
    assert signed_in.after["method"] == "sso" and signed_in.after["issuer"] == oidc.issuer
    _no_tokens_in([*audit(app, "person.sso_linked"), signed_in], CLIENT_SECRET, "code=")


def test_later_sign_ins_match_issuer_and_subject_even_after_the_email_changed(
    app, client, org, oidc
):
    configure(app, oidc)
    oidc.account("u-arun", email="arun@example.com")
    assert sso_sign_in(client, oidc, "u-arun").status_code == 302
    client.post_form("/logout")

    oidc.account("u-arun", email="arun.renamed@example.com")  # changed at the provider only
    again = app.test_client()
    assert sso_sign_in(again, oidc, "u-arun").status_code == 302
    assert "Arun Pm" in signed_in_as(again)
    with app.app_context():
        identity = db.session.execute(select(ExternalIdentity)).scalar_one()
        assert identity.email == "arun.renamed@example.com"
        assert db.session.get(User, org.pm_a2.id).email == "arun@example.com"


def test_the_provider_sign_in_skips_rungs_second_factor_and_needs_no_password(app, make, oidc):
    """A person without any password (SSO only) gets a session like anyone else."""
    person = make.person(name="No Password", email="nopass@example.com", password=None)
    configure(app, oidc)
    oidc.account("u-nopass", email="nopass@example.com")
    client = app.test_client()
    assert sso_sign_in(client, oidc, "u-nopass").headers["Location"] == "/"
    assert "No Password" in signed_in_as(client)
    assert make.get(person).password_hash is None


# --- the protocol refuses -------------------------------------------------------------------


def _failed(answer, status: int, words: str) -> str:
    page = answer.get_data(as_text=True)
    assert answer.status_code == status, page[:1500]
    assert f"Sign-in with {PROVIDER} failed" in page
    assert words in page, page[:3000]
    assert 'href="/login"' in page  # a way back
    return page


def test_a_wrong_state_is_refused(app, client, org, oidc):
    configure(app, oidc)
    oidc.account("u-alice", email="alice@example.com")
    start = client.get("/login/sso")
    callback = urlsplit(oidc.authorize(start.headers["Location"], "u-alice"))
    query = parse_qs(callback.query)
    query["state"] = ["forged-state"]
    forged = f"{callback.path}?{urlencode(query, doseq=True)}"

    _failed(client.get(forged), 400, "state does not match")
    assert signed_in_as(client) is None


def test_a_callback_from_another_browser_is_refused(app, client, org, oidc):
    configure(app, oidc)
    oidc.account("u-alice", email="alice@example.com")
    start = client.get("/login/sso")
    callback = oidc.authorize(start.headers["Location"], "u-alice")
    stranger = app.test_client()  # login CSRF: the victim's browser never started this

    _failed(stranger.get(callback), 400, "state does not match")
    assert signed_in_as(stranger) is None


def test_a_replayed_code_is_refused_by_the_provider(app, client, org, oidc):
    configure(app, oidc)
    oidc.account("u-alice", email="alice@example.com")
    start = client.get("/login/sso")
    callback = oidc.authorize(start.headers["Location"], "u-alice")
    # Someone who copied the browser's cookie (its state, nonce and code verifier) and the code.
    copied = client.get_cookie("session").value
    assert client.get(callback).status_code == 302

    replay = app.test_client()
    replay.set_cookie("session", copied, domain="localhost")
    _failed(replay.get(callback), 400, "refused the sign-in code")
    assert signed_in_as(replay) is None
    [failure] = audit(app, "sso.sign_in_failed")
    assert "refused the sign-in code" in failure.after["reason"]
    code = parse_qs(urlsplit(callback).query)["code"][0]
    _no_tokens_in([failure], code, CLIENT_SECRET)


def test_an_id_token_for_another_audience_is_refused(app, client, org, oidc):
    """The provider's client "rungs-wrong-audience" gets an ID token signed by the provider
    but issued to the other client at the provider ("other-app")."""
    configure(app, oidc, client_id="rungs-wrong-audience")
    oidc.account("u-alice", email="alice@example.com")
    _failed(sso_sign_in(client, oidc, "u-alice"), 400, "issued for another application")
    assert signed_in_as(client) is None
    assert audit(app, "person.signed_in") == []
    assert "another application" in audit(app, "sso.sign_in_failed")[0].after["reason"]


def test_an_expired_id_token_is_refused(app, client, org, oidc):
    """The provider's client "rungs-expired" gets ID tokens (validly signed) that expired an
    hour ago: beyond the one minute Rungs allows for clock differences."""
    configure(app, oidc, client_id="rungs-expired")
    oidc.account("u-alice", email="alice@example.com")
    _failed(sso_sign_in(client, oidc, "u-alice"), 400, "had already expired")
    assert signed_in_as(client) is None


def test_an_unreachable_provider_gives_a_page_not_an_error(app, client, org, oidc):
    configure(app, oidc, url="http://127.0.0.1:9/.well-known/openid-configuration")
    start = client.get("/login/sso")
    page = _failed(start, 502, "discovery document (ConnectionError)")
    assert "Try again" in page


def test_the_provider_answering_an_error_is_shown(app, client, org, oidc):
    configure(app, oidc)
    start = client.get("/login/sso")
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    denied = client.get(f"/login/sso/callback?error=access_denied&state={state}")
    _failed(denied, 400, "access_denied")


# --- who may come in ------------------------------------------------------------------------


def test_an_unverified_email_is_refused(app, client, org, oidc):
    configure(app, oidc, unknown="create")
    oidc.account("u-unverified", email="alice@example.com", email_verified=False)
    page = _failed(sso_sign_in(client, oidc, "u-unverified"), 403, "has not verified")
    assert "alice@example.com" in page
    assert signed_in_as(client) is None
    with app.app_context():
        assert db.session.execute(select(ExternalIdentity)).first() is None
    [refused] = audit(app, "person.sso_refused")
    assert refused.after["reason"] == "unverified_email"


def test_an_unknown_person_is_refused_when_the_head_chose_so(app, client, org, oidc):
    configure(app, oidc, unknown="refuse")
    oidc.account("u-new", email="newcomer@example.com", name="New Comer")
    page = _failed(sso_sign_in(client, oidc, "u-new"), 403, "No one in Rungs has the address")
    assert "newcomer@example.com" in page and "head of product" in page
    assert user_by_email(app, "newcomer@example.com") is None
    assert audit(app, "person.sso_refused")[0].after["reason"] == "unknown_person"


def test_an_unknown_person_is_added_to_be_placed_when_the_head_chose_so(app, client, org, oidc):
    configure(app, oidc, unknown="create")
    oidc.account("u-new", email="Newcomer@Example.com", name="New Comer")
    oidc.account("u-nameless", email="nameless@example.com")

    assert sso_sign_in(client, oidc, "u-new").headers["Location"] == "/"
    assert "New Comer" in signed_in_as(client)
    other = app.test_client()
    assert sso_sign_in(other, oidc, "u-nameless").status_code == 302

    created = user_by_email(app, "newcomer@example.com")
    assert (created.name, created.role, created.manager_id) == ("New Comer", Role.PM, None)
    assert created.password_hash is None and created.level_id is None
    assert user_by_email(app, "nameless@example.com").name == "nameless@example.com"
    creations = audit(app, "person.created")
    assert [e.after["source"] for e in creations] == ["sso", "sso"]
    assert creations[0].actor_id is None and creations[0].after["email"] == "newcomer@example.com"

    head = app.test_client()
    sign_in(head, org.head)
    people = head.get("/people/").get_data(as_text=True)
    assert "To be placed" in people
    placing = people.split('id="to-place-heading"')[1].split("</section>")[0]
    assert "New Comer" in placing and "nameless@example.com" in placing
    assert "Alice Pm" not in placing  # placed people are not flagged


def test_a_deactivated_person_is_refused_by_email_and_by_identity(app, org, make, oidc):
    configure(app, oidc)
    oidc.account("u-bea", email="bea@example.com")
    oidc.account("u-dev", email="dev@example.com")
    first = app.test_client()
    assert sso_sign_in(first, oidc, "u-bea").status_code == 302  # linked while active
    with app.app_context():
        for person in (org.pm_b1, org.pm_d1):
            db.session.get(User, person.id).deactivated_at = utcnow()
        db.session.commit()

    for login in ("u-bea", "u-dev"):  # by identity, and by email the first time
        client = app.test_client()
        _failed(sso_sign_in(client, oidc, login), 403, "deactivated")
        assert signed_in_as(client) is None
    assert signed_in_as(first) is None  # the earlier session ended with the deactivation
    assert [e.after["reason"] for e in audit(app, "person.sso_refused")] == ["deactivated"] * 2


# --- SSO-only and the break-glass account ----------------------------------------------------


def test_sso_only_refuses_passwords_but_the_break_glass_head_still_signs_in(app, client, org, oidc):
    configure(app, oidc, sso_only=True)
    break_glass(app, org.head)

    page = client.get("/login").get_data(as_text=True)
    assert f"Sign in with {PROVIDER}" in page and "Passwords are off" in page
    assert "Forgot your password?" not in page and "break-glass account only" in page

    # Not the break-glass address: the wrong-password answer, whatever the password, so the
    # page does not tell which address is the break-glass one; and throttled like any other.
    wrong = client.post_form("/login", {"email": org.head.email, "password": "whatever"})
    refused = client.post_form("/login", {"email": org.pm_a1.email, "password": "whatever"})
    right_password = client.post_form(
        "/login", {"email": org.manager_a.email, "password": org.manager_a.password}
    )
    for answer in (wrong, refused, right_password):
        assert answer.status_code == 400
        assert "Email or password is incorrect." in answer.get_data(as_text=True)
    assert signed_in_as(client) is None
    with app.app_context():
        keys = db.session.execute(select(LoginFailure.key)).scalars().all()
    assert sum(key.startswith("pair:") for key in keys) == 3  # each address counted

    assert client.get("/password/forgot").status_code == 403
    assert "Passwords are off" in client.get("/password/forgot").get_data(as_text=True)
    with app.app_context():
        head, pm = db.session.get(User, org.head.id), db.session.get(User, org.pm_a1.id)
        pm_link = auth.create_reset_link(head, pm)
        head_link = auth.create_reset_link(head, head)
        db.session.commit()
    assert client.get(f"/password/{pm_link}").status_code == 403
    assert client.get(f"/password/{head_link}").status_code == 200  # the break-glass's works

    sign_in(client, org.head)  # the break-glass head, with the password
    assert "Hana Head" in signed_in_as(client)


def test_with_sso_on_but_not_only_both_ways_are_offered(app, client, org, oidc):
    configure(app, oidc)
    page = client.get("/login").get_data(as_text=True)
    assert f"Sign in with {PROVIDER}" in page and 'name="password"' in page
    assert "break-glass" not in page
    sign_in(client, org.pm_a1)


def test_without_sso_the_sign_in_page_is_as_before(client, org):
    page = client.get("/login").get_data(as_text=True)
    assert "Sign in with" not in page and 'name="password"' in page
    assert client.get("/login/sso").status_code == 404


# --- sign-out -------------------------------------------------------------------------------


def test_sign_out_after_sso_offers_the_providers_sign_out(app, client, org, oidc):
    configure(app, oidc)
    oidc.account("u-alice", email="alice@example.com")
    with requests.Session() as browser:  # one browser at the provider, for its sign-out too
        start = client.get("/login/sso")
        client.get(oidc.authorize(start.headers["Location"], "u-alice", browser))
        old_cookie = client.get_cookie("session").value
        with client.session_transaction() as session:  # tied to the person it signed in
            assert session["signed_in_with"] == {"user": org.pm_a1.id, "method": "sso"}

        out = client.post_form("/logout")
        with client.session_transaction() as session:
            assert "signed_in_with" not in session  # gone with the sign-out
        page = out.get_data(as_text=True)
        assert out.status_code == 200 and "You are signed out of Rungs" in page
        link = page.split('class="button primary" href="')[1].split('"')[0].replace("&amp;", "&")
        query = parse_qs(urlsplit(link).query)
        assert link.startswith(f"{oidc.issuer}/session/end?")
        assert query["id_token_hint"] and query["post_logout_redirect_uri"] == [f"{RP_BASE}/login"]

        # The provider accepts it: it asks to confirm, then sends the browser to /login.
        assert oidc.authorize(link, "u-alice", browser) == f"{RP_BASE}/login?" + urlencode(
            {"state": query["state"][0]}
        )

    replay = app.test_client()  # the session token was rotated: the old cookie is dead
    replay.set_cookie("session", old_cookie, domain="localhost")
    assert signed_in_as(replay) is None


def test_sign_out_after_a_password_sign_in_is_as_before(app, client, org, oidc):
    configure(app, oidc)
    sign_in(client, org.pm_a1)
    out = client.post_form("/logout")
    assert out.status_code == 302 and out.headers["Location"] == "/login"


def test_a_later_password_sign_in_in_the_same_browser_is_not_offered_the_provider(
    app, client, org, oidc
):
    configure(app, oidc)
    oidc.account("u-alice", email="alice@example.com")
    assert sso_sign_in(client, oidc, "u-alice").status_code == 302
    with app.app_context():  # Alice is signed out everywhere (say, from another device)
        auth.sign_out(db.session.get(User, org.pm_a1.id))
        db.session.commit()
    sign_in(client, org.pm_b1)  # someone else, with a password, in the same browser
    out = client.post_form("/logout")
    assert out.status_code == 302 and out.headers["Location"] == "/login"


def test_sso_only_without_a_usable_break_glass_account_shows_no_password_form(
    app, client, org, oidc
):
    configure(app, oidc, sso_only=True)
    break_glass(app, org.manager_a)  # not a head of product: it does not count
    page = client.get("/login").get_data(as_text=True)
    assert f"Sign in with {PROVIDER}" in page
    assert 'name="password"' not in page and "break-glass" not in page


def test_the_discovery_document_and_keys_are_fetched_once_for_many_sign_ins(
    app, client, org, oidc, monkeypatch
):
    from authlib.integrations.requests_client import OAuth2Session

    fetched: list[str] = []
    real = OAuth2Session.request

    def counting(self, method, url, *args, **kwargs):
        fetched.append(url)
        return real(self, method, url, *args, **kwargs)

    monkeypatch.setattr(OAuth2Session, "request", counting)
    configure(app, oidc)
    oidc.account("u-alice", email="alice@example.com")
    for _ in range(3):
        assert client.get("/login/sso").status_code == 302
    assert fetched.count(oidc.discovery_url) == 1
    for browser in (client, app.test_client()):
        assert sso_sign_in(browser, oidc, "u-alice").status_code == 302
        assert "Alice" in signed_in_as(browser)
    assert fetched.count(oidc.discovery_url) == 1
    assert len([url for url in fetched if "jwks" in url]) == 1


def test_an_id_token_for_another_nonce_is_refused_by_the_real_provider_flow(app, client, org, oidc):
    configure(app, oidc)
    oidc.account("u-alice", email="alice@example.com")
    start = client.get("/login/sso")
    callback = oidc.authorize(start.headers["Location"], "u-alice")
    with client.session_transaction() as session:  # as if the token answered another sign-in
        [key] = [k for k in session if k.startswith("_state_")]
        state = dict(session[key])
        state["data"] = {**state["data"], "nonce": "another-sign-ins-nonce"}
        session[key] = state
    _failed(client.get(callback), 400, "nonce mismatch")
    assert signed_in_as(client) is None
    [failed] = audit(app, "sso.sign_in_failed")
    assert "nonce mismatch" in failed.after["reason"]
