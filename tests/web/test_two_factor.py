"""Two-factor sign-in through HTTP: setting it up from the page's own secret, the second step
of signing in (codes, replays, the throttle, recovery codes, expiry, `next`), turning it off,
the requirement for heads and managers, and the head's reset."""

import json
import re
import threading
from datetime import UTC, datetime

import pyotp
import pytest
import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, User
from tests.api.helpers import bearer, make_token
from tests.factories import sign_in

START = datetime(2027, 3, 1, 9, 0, 0, tzinfo=UTC)  # the start of a 30-second step
SECRET = re.compile(r'<code class="secret-text" id="secret">([A-Z2-7 ]+)</code>')
RECOVERY = re.compile(r"<li>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</li>")
ACCOUNT = "/account/two-factor/"
AUTOFOCUS = re.compile(r"<input [^>]*\bautofocus\b[^>]*>")
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def focused(page: str) -> list[str]:
    """The ids of the fields that take the cursor when the page opens."""
    return [re.search(r'\sid="([^"]+)"', tag).group(1) for tag in AUTOFOCUS.findall(page)]


def page_token(client, path: str = ACCOUNT) -> str:
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def post(client, path: str, data: dict, form_page: str = ACCOUNT):
    return client.post(path, data={"csrf_token": page_token(client, form_page), **data})


def set_up(client, person) -> tuple[str, list[str]]:
    """Turn two-factor on through the pages, as a person would: the secret the page shows."""
    post(client, "/account/two-factor/start", {})
    page = client.get("/account/two-factor/").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page  # the QR code
    secret = SECRET.search(page).group(1).replace(" ", "")
    response = post(
        client,
        "/account/two-factor/turn-on",
        {"on-code": pyotp.TOTP(secret).now(), "on-password": person.password},
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    codes = RECOVERY.findall(response.get_data(as_text=True))
    return secret, codes


def password_step(client, person, **extra):
    data = {"email": person.email, "password": person.password, **extra}
    response = client.post_form("/login", data)
    assert response.status_code == 302
    return response


def code_step(client, code: str):
    return client.post_form("/login/code", {"code": code})


def audit_actions(app, person_id: int) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.entity_id == person_id, AuditEvent.entity_type == "users")
                .order_by(AuditEvent.id)
            )
        )


def test_setting_up_shows_the_codes_once_and_ends_other_sessions(app, client, org, clock):
    sign_in(client, org.pm_a1)
    other = app.test_client()
    sign_in(other, org.pm_a1)
    settings = client.get("/account/settings").get_data(as_text=True)
    assert 'href="/account/two-factor/"' in settings
    secret, codes = set_up(client, org.pm_a1)
    assert len(codes) == 10
    assert client.get("/").status_code == 200  # this session goes on
    assert other.get("/").status_code == 302  # the other one ended
    page = client.get("/account/two-factor/").get_data(as_text=True)
    assert "On" in page and "10</strong> unused recovery codes" in page
    assert secret not in page and not SECRET.search(page) and codes[0] not in page
    assert "person.two_factor_enabled" in audit_actions(app, org.pm_a1.id)


def test_code_fields_are_for_one_time_codes(client, org):
    sign_in(client, org.pm_a1)
    post(client, "/account/two-factor/start", {})
    page = client.get("/account/two-factor/").get_data(as_text=True)
    field = re.search(r'<input[^>]*id="on-code"[^>]*>', page).group(0)
    assert 'autocomplete="one-time-code"' in field and 'inputmode="numeric"' in field


def test_a_wrong_code_does_not_turn_it_on(app, client, org, clock):
    sign_in(client, org.pm_a1)
    post(client, "/account/two-factor/start", {})
    response = post(
        client,
        "/account/two-factor/turn-on",
        {"on-code": "000000", "on-password": org.pm_a1.password},
    )
    assert response.status_code == 400
    assert "That code is not right" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, org.pm_a1.id).totp_enabled_at is None


def test_signing_in_asks_for_the_code_and_keeps_next_and_remember(app, client, org, clock):
    sign_in(client, org.pm_a1)
    secret, _ = set_up(client, org.pm_a1)
    client.post_form("/logout")
    clock.shift(30)
    fresh = app.test_client()
    login = fresh.post_form(
        "/login",
        {
            "email": org.pm_a1.email,
            "password": org.pm_a1.password,
            "next": "/evidence/",
            "remember": "y",
        },
    )
    assert login.headers["Location"] == "/login/code"
    assert fresh.get("/").status_code == 302  # not signed in yet
    step = fresh.get("/login/code").get_data(as_text=True)
    assert 'autocomplete="one-time-code"' in step and 'inputmode="numeric"' in step
    response = code_step(fresh, pyotp.TOTP(secret).now())
    assert response.status_code == 302 and response.headers["Location"] == "/evidence/"
    assert fresh.get_cookie("remember_token") is not None
    assert fresh.get("/").status_code == 200
    assert audit_actions(app, org.pm_a1.id)[-2:] == ["person.password_accepted", "person.signed_in"]


def test_a_wrong_code_is_refused_and_audited_without_the_code(app, client, org, clock):
    sign_in(client, org.pm_a1)
    set_up(client, org.pm_a1)
    fresh = app.test_client()
    password_step(fresh, org.pm_a1)
    response = code_step(fresh, "123456")
    assert response.status_code == 400
    assert "That code is not right" in response.get_data(as_text=True)
    assert fresh.get("/").status_code == 302
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "person.second_step_failed")
        ).one()
        assert "123456" not in str(event.after)


def test_a_code_used_once_is_refused_the_second_time(app, client, org, clock):
    sign_in(client, org.pm_a1)
    secret, _ = set_up(client, org.pm_a1)
    clock.shift(30)
    first, second = app.test_client(), app.test_client()
    password_step(first, org.pm_a1)
    password_step(second, org.pm_a1)
    code = pyotp.TOTP(secret).now()
    assert code_step(first, code).status_code == 302
    replay = code_step(second, code)
    assert replay.status_code == 400
    assert "used already" in replay.get_data(as_text=True)
    assert second.get("/").status_code == 302


def test_wrong_codes_are_throttled_for_that_person_only(app, client, org, clock):
    sign_in(client, org.pm_a1)
    secret, _ = set_up(client, org.pm_a1)
    bea = app.test_client()
    sign_in(bea, org.pm_b1)
    bea_secret, _ = set_up(bea, org.pm_b1)
    clock.shift(30)
    attacker = app.test_client()
    password_step(attacker, org.pm_a1)
    for _ in range(app.config["TWO_FACTOR_MAX_FAILURES"]):
        assert code_step(attacker, "000000").status_code == 400
    refused = code_step(attacker, pyotp.TOTP(secret).now())  # even the right code now
    assert refused.status_code == 429
    assert "Too many wrong codes" in refused.get_data(as_text=True)
    other = app.test_client()
    password_step(other, org.pm_b1)
    assert code_step(other, pyotp.TOTP(bea_secret).now()).status_code == 302


def test_a_recovery_code_signs_in_once_and_says_how_many_are_left(app, client, org, clock):
    sign_in(client, org.pm_a1)
    _, codes = set_up(client, org.pm_a1)
    fresh = app.test_client()
    password_step(fresh, org.pm_a1)
    response = post(fresh, "/login/recovery-code", {"recovery_code": codes[0]}, "/login/code")
    assert response.status_code == 302
    home = fresh.get("/").get_data(as_text=True)
    assert "You have 9 recovery codes left" in home
    again = app.test_client()
    password_step(again, org.pm_a1)
    reused = post(again, "/login/recovery-code", {"recovery_code": codes[0]}, "/login/code")
    assert reused.status_code == 400
    assert "used already" in reused.get_data(as_text=True)
    assert focused(reused.get_data(as_text=True)) == ["recovery_code"]  # the refused field
    assert focused(again.get("/login/code").get_data(as_text=True)) == ["code"]
    assert "person.recovery_code_used" in audit_actions(app, org.pm_a1.id)


def test_the_waiting_second_step_expires_and_keeps_next(app, client, org, clock):
    sign_in(client, org.pm_a1)
    secret, _ = set_up(client, org.pm_a1)
    fresh = app.test_client()
    password_step(fresh, org.pm_a1, next="/growth")
    clock.shift(app.config["TWO_FACTOR_PENDING_TTL"].total_seconds() + 1)
    response = fresh.get("/login/code")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/growth"
    assert "Your sign-in has expired" in fresh.get("/login?next=/growth").get_data(as_text=True)
    assert code_step(fresh, pyotp.TOTP(secret).now()).status_code == 302
    assert fresh.get("/").status_code == 302  # still not signed in


def test_turning_off_needs_the_password_and_a_code(app, client, org, clock):
    sign_in(client, org.pm_a1)
    secret, _ = set_up(client, org.pm_a1)
    clock.shift(30)
    code = pyotp.TOTP(secret).now()
    no_password = post(
        client, "/account/two-factor/turn-off", {"off-password": "x", "off-code": code}
    )
    assert no_password.status_code == 400
    assert "Your password is not correct." in no_password.get_data(as_text=True)
    assert focused(no_password.get_data(as_text=True)) == ["off-password"]
    no_code = post(client, "/account/two-factor/turn-off", {"off-password": org.pm_a1.password})
    assert no_code.status_code == 400
    assert focused(no_code.get_data(as_text=True)) == ["off-code"]
    wrong_code = post(
        client,
        "/account/two-factor/turn-off",
        {"off-password": org.pm_a1.password, "off-code": "aaaa-bbbb-cccc"},
    )
    assert wrong_code.status_code == 400 and focused(wrong_code.get_data(as_text=True)) == [
        "off-code"
    ]
    done = post(
        client,
        "/account/two-factor/turn-off",
        {"off-password": org.pm_a1.password, "off-code": code},
    )
    assert done.status_code == 302
    assert "Off" in client.get("/account/two-factor/").get_data(as_text=True)
    client.post_form("/logout")
    sign_in(client, org.pm_a1)  # the password alone again
    assert client.get("/").status_code == 200


def test_new_recovery_codes_are_shown_once(app, client, org, clock):
    sign_in(client, org.pm_a1)
    secret, old = set_up(client, org.pm_a1)
    clock.shift(30)
    response = post(
        client,
        "/account/two-factor/recovery-codes",
        {"codes-password": org.pm_a1.password, "codes-code": pyotp.TOTP(secret).now()},
    )
    new = RECOVERY.findall(response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)


def require_two_factor(client, org):
    sign_in(client, org.head)
    response = client.post_form("/settings/two-factor", {"required": "y"})
    assert response.status_code == 302


def test_required_two_factor_sends_managers_to_set_up_but_not_pms(app, client, org, clock):
    head = app.test_client()
    require_two_factor(head, org)
    forced = head.get("/account/two-factor/").get_data(as_text=True)
    assert "Until it is on, the other pages of Rungs bring you back here." in forced
    assert forced.count('action="/logout"') == 2  # the menu's, and one beside the notice
    assert head.get("/").headers["Location"] == "/account/two-factor/"  # the head too
    sign_in(client, org.manager_a)
    for path in ("/", "/evidence/", "/team"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == "/account/two-factor/"
    assert "Set up two-factor sign-in to go on using Rungs." in client.get(
        "/account/two-factor/"
    ).get_data(as_text=True)
    set_up(client, org.manager_a)
    assert client.get("/").status_code == 200
    pm = app.test_client()
    sign_in(pm, org.pm_a1)
    assert pm.get("/").status_code == 200
    own_page = pm.get("/account/two-factor/").get_data(as_text=True)
    assert "bring you back here" not in own_page and 'class="eyebrow"' in own_page


def test_required_two_factor_leaves_single_sign_on_sessions_alone(app, client, org):
    head = app.test_client()
    require_two_factor(head, org)
    sign_in(client, org.manager_a)
    with client.session_transaction() as session:
        session["signed_in_with"] = {"user": org.pm_a1.id, "method": "sso"}  # someone else's
    assert client.get("/").status_code == 302
    with client.session_transaction() as session:
        session["signed_in_with"] = {"user": org.manager_a.id, "method": "sso"}
    assert client.get("/").status_code == 200


def test_the_requirement_page_is_for_the_head_only(app, client, org):
    sign_in(client, org.manager_a)
    assert client.get("/settings/two-factor").status_code == 403
    head = app.test_client()
    sign_in(head, org.head)
    home = head.get("/").get_data(as_text=True)
    assert 'href="/settings/two-factor"' in home
    page = head.get("/settings/two-factor").get_data(as_text=True)
    assert "0 of 4 heads of product and managers" in page


def test_the_head_turns_off_a_persons_two_factor(app, client, org, clock):
    sign_in(client, org.pm_a1)
    set_up(client, org.pm_a1)
    head = app.test_client()
    sign_in(head, org.head)
    person_page = head.get(f"/people/{org.pm_a1.id}").get_data(as_text=True)
    assert f'href="/people/{org.pm_a1.id}/two-factor/reset"' in person_page
    assert f'action="/people/{org.pm_a1.id}/two-factor/reset"' not in person_page  # confirm first
    confirm = head.get(f"/people/{org.pm_a1.id}/two-factor/reset").get_data(as_text=True)
    assert "Their API tokens are revoked" in confirm
    assert "password alone until they set it up again" in confirm
    assert client.get("/").status_code == 200  # looking at the page did nothing
    response = head.post_form(f"/people/{org.pm_a1.id}/two-factor/reset")
    assert response.status_code == 302
    said = head.get(response.headers["Location"]).get_data(as_text=True)
    assert "password alone until they set it up again" in said
    assert client.get("/").status_code == 302  # Alice was signed out
    fresh = app.test_client()
    sign_in(fresh, org.pm_a1)  # the password alone
    assert fresh.get("/").status_code == 200
    manager = app.test_client()
    sign_in(manager, org.manager_a)
    assert manager.post_form(f"/people/{org.pm_a1.id}/two-factor/reset").status_code == 403


def test_a_reset_where_two_factor_is_required_says_so_and_revokes_api_tokens(
    app, client, org, clock
):
    sign_in(client, org.manager_a)
    set_up(client, org.manager_a)
    secret = make_token(app, org.manager_a)
    head = app.test_client()
    sign_in(head, org.head)
    set_up(head, org.head)
    assert head.post_form("/settings/two-factor", {"required": "y"}).status_code == 302
    reset = f"/people/{org.manager_a.id}/two-factor/reset"
    confirm = head.get(reset).get_data(as_text=True)
    assert "asked to set it up again at their next sign-in" in confirm
    assert "password alone" not in confirm
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    response = head.post_form(reset)
    said = head.get(response.headers["Location"]).get_data(as_text=True)
    assert "asked to set it up again at their next sign-in" in said
    assert "password alone" not in said and "API tokens were revoked" in said
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    fresh = app.test_client()
    sign_in(fresh, org.manager_a)
    assert fresh.get("/").headers["Location"] == "/account/two-factor/"


def test_the_reset_page_refuses_someone_without_two_factor(app, client, org):
    sign_in(client, org.head)
    response = client.get(f"/people/{org.pm_a1.id}/two-factor/reset")
    assert response.status_code == 302
    assert "does not use two-factor sign-in" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    sign_in(manager := app.test_client(), org.manager_a)
    assert manager.get(f"/people/{org.pm_a1.id}/two-factor/reset").status_code == 403


def test_two_requests_racing_with_one_code_let_one_in(app, client, org, clock):
    sign_in(client, org.pm_a1)
    secret, _ = set_up(client, org.pm_a1)
    clock.shift(30)
    racers = [app.test_client() for _ in range(2)]
    tokens = []
    for racer in racers:
        password_step(racer, org.pm_a1)
        tokens.append(racer.csrf_token())
    code = pyotp.TOTP(secret).now()
    start = threading.Barrier(len(racers))
    answers = []

    def race(racer, token):
        start.wait()
        answers.append(racer.post("/login/code", data={"csrf_token": token, "code": code}))

    pairs = zip(racers, tokens, strict=True)
    threads = [threading.Thread(target=race, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answer.status_code for answer in answers) == [302, 400]


def test_the_command_line_turns_off_someones_two_factor(app, client, org, clock):
    sign_in(client, org.head)
    set_up(client, org.head)
    secret = make_token(app, org.head)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["people", "reset-two-factor", org.head.email])
    assert result.exit_code == 0, result.output
    assert "is off" in result.output and "API tokens were revoked" in result.output
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    assert client.get("/").status_code == 302  # signed out everywhere
    again = runner.invoke(args=["people", "reset-two-factor", org.head.email])
    assert again.exit_code != 0 and "does not use two-factor sign-in" in again.output
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "person.two_factor_reset")
        ).one()
        assert event.actor_id is None and event.entity_id == org.head.id


def test_a_forged_waiting_state_leads_back_to_the_password(app, client, org, clock):
    sign_in(client, org.pm_a1)
    set_up(client, org.pm_a1)
    stranger = app.test_client()
    with stranger.session_transaction() as session:
        session["two_factor_pending"] = json.dumps({"person": org.pm_a1.id, "token": "x"})
    response = stranger.get("/login/code")
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_required_two_factor_does_not_turn_api_tokens_into_redirects(app, client, org):
    """A token is not a sign-in: the API answers its owner in JSON, as it did before."""
    secret = make_token(app, org.manager_a)
    require_two_factor(app.test_client(), org)
    response = client.get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 200
    assert response.get_json()["id"] == org.manager_a.id


HOSTILE = [
    "",
    "\x00",
    "1" * 10_000,
    "\uff11\uff12\uff13\uff14\uff15\uff16",
    "12345\u202e6",
    "' OR 1=1 --",
    "<script>",
]


def _still_on(app, person) -> bool:
    with app.app_context():
        return db.session.get(User, person.id).totp_enabled_at is not None


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_on_the_account_forms_get_a_4xx_and_change_nothing(app, client, org, value):
    """The forms tests/web/test_bad_input.py cannot reach (the demo has nobody with two-factor
    on): every field of turn-on, new codes and turn-off, given what no person types."""
    sign_in(client, org.pm_a1)
    post(client, "/account/two-factor/start", {})
    response = post(client, "/account/two-factor/turn-on", {"on-code": value, "on-password": value})
    assert 400 <= response.status_code < 500
    assert not _still_on(app, org.pm_a1)
    set_up(client, org.pm_a1)
    for path, prefix in (("recovery-codes", "codes"), ("turn-off", "off")):
        for fields in ({"code": value}, {"password": value}, {"code": value, "password": value}):
            data = {f"{prefix}-{name}": text for name, text in fields.items()}
            response = post(client, f"/account/two-factor/{path}", data)
            assert 400 <= response.status_code < 500, (path, fields)
    assert _still_on(app, org.pm_a1)


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_on_the_second_step_get_a_4xx_and_sign_no_one_in(app, client, org, value):
    sign_in(client, org.pm_a1)
    set_up(client, org.pm_a1)
    client.post_form("/logout", {})
    password_step(client, org.pm_a1)
    assert 400 <= code_step(client, value).status_code < 500
    response = client.post_form("/login/recovery-code", {"recovery_code": value})
    assert 400 <= response.status_code < 500
    assert client.get("/").status_code == 302  # still not signed in


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_on_the_heads_reset_change_nothing(app, client, org, value):
    owner = app.test_client()
    sign_in(owner, org.manager_a)
    set_up(owner, org.manager_a)
    sign_in(client, org.head)
    path = f"/people/{org.manager_a.id}/two-factor/reset"
    response = client.post(path, data={"csrf_token": value})
    assert response.status_code == 400
    assert _still_on(app, org.manager_a)
