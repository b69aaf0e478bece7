"""The personal access tokens page: make a token (shown once), list them, revoke one after a
confirmation; audited without the secret; nobody sees or revokes another person's tokens."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent
from app.models.identity import ApiToken
from tests.api.helpers import bearer, make_token
from tests.factories import PASSWORD, sign_in

TOKEN = re.compile(r"rungs_[A-Za-z0-9_-]{43}")
NONCE = re.compile(r'name="nonce" type="hidden" value="([^"]+)"')


def nonce_of(page) -> str:
    return NONCE.search(page.get_data(as_text=True)).group(1)


def make_on_page(client, **data):
    """Show the form (its nonce), then send it with the password."""
    fields = {
        "name": "Reports script",
        "scope": "read",
        "expires": "30",
        "password": PASSWORD,
        "nonce": nonce_of(client.get("/account/tokens/")),
        **data,
    }
    return client.post_form("/account/tokens/", fields)


def test_your_settings_link_to_the_tokens_page(client, org):
    sign_in(client, org.pm_a1)
    page = client.get("/account/settings").get_data(as_text=True)
    assert 'href="/account/tokens/"' in page
    assert 'href="/api/docs"' in page


def test_a_new_token_is_shown_once_and_works(app, client, org):
    sign_in(client, org.pm_a1)
    made = make_on_page(client)
    assert made.status_code == 201
    shown = TOKEN.findall(made.get_data(as_text=True))
    assert len(set(shown)) == 1
    secret = shown[0]
    listed = client.get("/account/tokens/").get_data(as_text=True)
    assert secret not in listed
    assert "Reports script" in listed and secret[:10] + "…" in listed and "Never" in listed
    me = client.get("/api/v1/me", headers=bearer(secret))
    assert me.status_code == 200 and me.json["token"]["scope"] == "read"
    assert "Never" not in client.get("/account/tokens/").get_data(as_text=True)


def test_only_a_digest_is_stored_and_the_audit_holds_no_secret(app, client, org):
    sign_in(client, org.pm_a1)
    secret = TOKEN.search(make_on_page(client, scope="read_write").get_data(as_text=True)).group()
    with app.app_context():
        stored = db.session.scalar(select(ApiToken))
        assert stored.token_hash != secret and len(stored.token_hash) == 64
        assert stored.scope.value == "read_write"
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.entity_type == "api_tokens")
        ).all()
        assert [e.action for e in events] == ["api_token.create"]
        assert secret not in json.dumps([e.after for e in events])
        assert events[0].actor_id == org.pm_a1.id


def test_a_name_and_an_offered_expiry_are_needed(client, org):
    sign_in(client, org.pm_a1)
    no_name = make_on_page(client, name="  ")
    assert no_name.status_code == 400
    assert "Give the token a name" in no_name.get_data(as_text=True)
    odd_expiry = make_on_page(client, expires="3")
    assert odd_expiry.status_code == 400
    assert TOKEN.search(odd_expiry.get_data(as_text=True)) is None


def test_revoking_asks_first_then_stops_the_token(app, client, org):
    sign_in(client, org.pm_a1)
    secret = make_token(app, org.pm_a1, name="Old script")
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    listed = client.get("/account/tokens/").get_data(as_text=True)
    assert f"/account/tokens/{token_id}/revoke" in listed
    confirm = client.get(f"/account/tokens/{token_id}/revoke")
    assert confirm.status_code == 200
    assert "Revoke “Old script”?" in confirm.get_data(as_text=True)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200  # not yet
    done = client.post_form(f"/account/tokens/{token_id}/revoke")
    assert done.status_code == 302
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    page = client.get("/account/tokens/").get_data(as_text=True)
    assert "Revoked" in page and f"/account/tokens/{token_id}/revoke" not in page
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-1] == "api_token.revoke"


def test_nobody_sees_or_revokes_anothers_tokens_not_even_the_head(app, client, org):
    secret = make_token(app, org.pm_a1, name="Alice's script")
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    sign_in(client, org.head)
    assert "Alice's script" not in client.get("/account/tokens/").get_data(as_text=True)
    assert client.get(f"/account/tokens/{token_id}/revoke").status_code == 404
    assert client.post_form(f"/account/tokens/{token_id}/revoke").status_code == 404
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200


def test_the_page_needs_a_signed_in_person(client):
    assert client.get("/account/tokens/").status_code == 302


def test_revoke_all_stops_every_live_token_of_one_person_only(app, org):
    from app.models import User
    from app.services.api import tokens as token_service

    mine = [make_token(app, org.pm_a1, name=f"t{n}") for n in range(2)]
    already = make_token(app, org.pm_a1, name="old")
    theirs = make_token(app, org.pm_a2)
    with app.app_context():
        db.session.scalar(
            select(ApiToken).where(ApiToken.token_hash == token_service.digest(already))
        ).revoked_at = token_service.utcnow()
        db.session.commit()
        owner = db.session.get(User, org.pm_a1.id)
        head = db.session.get(User, org.head.id)
        assert token_service.revoke_all(owner, actor=head, reason="two-factor reset") == 2
        db.session.commit()
        rows = {t.token_hash: t for t in db.session.scalars(select(ApiToken))}
        assert all(rows[token_service.digest(s)].revoked_at is not None for s in mine)
        assert rows[token_service.digest(theirs)].revoked_at is None
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "api_token.revoke_all")
        )
        assert event.actor_id == org.head.id and event.entity_id == org.pm_a1.id
        assert event.after == {"revoked": 2, "reason": "two-factor reset"}
        assert not any(s in json.dumps(event.after) for s in mine)
        assert token_service.revoke_all(owner, actor=head, reason="again") == 0


def tokens_made(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(ApiToken)).all())


def test_the_page_says_tokens_outlive_signing_out(client, org):
    sign_in(client, org.pm_a1)
    page = client.get("/account/tokens/").get_data(as_text=True)
    assert "keeps working after you sign out" in page
    assert "revoke it" in page and "expires" in page and "deactivated" in page


def test_making_a_token_needs_the_password_again(app, client, org):
    sign_in(client, org.pm_a1)
    missing = make_on_page(client, password="")
    wrong = make_on_page(client, password="not it")
    for answer in (missing, wrong):
        assert answer.status_code == 400
        assert "Your password is not correct." in answer.get_data(as_text=True)
        assert TOKEN.search(answer.get_data(as_text=True)) is None
    assert tokens_made(app) == 0
    assert make_on_page(client).status_code == 201


def test_with_two_factor_on_a_current_code_is_needed_too(app, client, org):
    import pyotp

    from app.models import User
    from app.models.base import utcnow
    from app.services.people import two_factor, two_factor_account

    sign_in(client, org.pm_a1)
    with app.app_context():
        someone = db.session.get(User, org.pm_a1.id)
        two_factor_account.start_setup(someone)
        someone.totp_enabled_at = utcnow()  # on, without ending this session
        db.session.commit()
        secret = two_factor.read_secret(someone)
    page = client.get("/account/tokens/").get_data(as_text=True)
    assert "Code from your app" in page
    no_code = make_on_page(client)
    assert no_code.status_code == 400 and "That code is not right" in no_code.get_data(True)
    assert tokens_made(app) == 0
    made = make_on_page(client, code=pyotp.TOTP(secret).now())
    assert made.status_code == 201 and TOKEN.search(made.get_data(as_text=True))
    assert tokens_made(app) == 1


def test_a_person_without_a_password_needs_only_the_session(app, client, org):
    from app.models import User

    sign_in(client, org.pm_a1)
    with app.app_context():
        db.session.get(User, org.pm_a1.id).password_hash = None  # signs in only through SSO
        db.session.commit()
    page = client.get("/account/tokens/").get_data(as_text=True)
    assert 'name="password"' not in page and "being signed in is enough" in page
    assert make_on_page(client, password="").status_code == 201


def test_reloading_the_new_token_page_makes_no_second_token(app, client, org):
    sign_in(client, org.pm_a1)
    fields = {
        "name": "Once",
        "scope": "read",
        "expires": "30",
        "password": PASSWORD,
        "nonce": nonce_of(client.get("/account/tokens/")),
    }
    first = client.post_form("/account/tokens/", fields)
    assert first.status_code == 201
    secret = TOKEN.search(first.get_data(as_text=True)).group()
    again = client.post_form("/account/tokens/", fields)  # the browser's reload
    assert again.status_code == 302 and again.location.endswith("/account/tokens/")
    listed = client.get("/account/tokens/").get_data(as_text=True)
    assert "That form was already sent: your token is in the list below." in listed
    assert tokens_made(app) == 1
    forged = client.post_form("/account/tokens/", {**fields, "nonce": "made-up"})
    assert forged.status_code == 302 and tokens_made(app) == 1
    cookie = client.get_cookie("session")
    assert cookie is None or secret not in cookie.value
