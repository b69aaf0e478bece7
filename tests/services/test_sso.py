"""The SSO services without HTTP: which claims count as a verified address, how a person is
found, named and linked, and what the settings accept."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.errors import ValidationError
from app.extensions import db
from app.models import AuditEvent, ExternalIdentity, Role, Setting
from app.services.people import sso, sso_discovery, sso_settings
from app.services.people.sso import Refusal

ISSUER = "https://idp.example.com"


@pytest.fixture
def settings(ctx):
    def configure(unknown: str = "refuse", sso_only: bool = False, domains=()) -> None:
        db.session.merge(
            Setting(
                key="sso",
                value={
                    "provider_name": "Okta",
                    "discovery_url": ISSUER + sso_settings.WELL_KNOWN,
                    "client_id": "rungs",
                    "client_secret": "secret",
                    "unknown_people": unknown,
                    "sso_only": sso_only,
                    "allowed_domains": list(domains),
                },
            )
        )
        db.session.flush()

    return configure


@pytest.mark.parametrize(
    ("claims", "outcome"),
    [
        ({"email_verified": True}, None),
        ({"email_verified": "true"}, None),  # Cognito and others send a string
        ({"email_verified": False}, Refusal.UNVERIFIED_EMAIL),
        ({"email_verified": "false"}, Refusal.UNVERIFIED_EMAIL),
        ({}, Refusal.UNVERIFIED_EMAIL),  # no word on it is no verification
        ({"xms_edov": True}, None),  # Entra ID: the tenant verified the domain
        ({"xms_edov": "true"}, Refusal.UNVERIFIED_EMAIL),
        ({"email_verified": False, "xms_edov": True}, Refusal.UNVERIFIED_EMAIL),
    ],
)
def test_only_a_verified_address_finds_a_person(settings, org, claims, outcome):
    settings()
    result = sso.sign_in(ISSUER, {"sub": "s1", "email": "alice@example.com", **claims}, client="c")
    assert result.refusal is outcome
    assert (result.person.id if result.person else None) == (
        org.pm_a1.id if outcome is None else None
    )


def test_no_address_and_no_subject_are_refused_with_their_reason(settings, org):
    settings(unknown="create")
    assert sso.sign_in(ISSUER, {"sub": "s1"}, client="c").refusal is Refusal.NO_EMAIL
    no_subject = {"email": "x@example.com", "email_verified": True}
    assert sso.sign_in(ISSUER, no_subject, client="c").refusal is Refusal.NO_SUBJECT


def test_an_unusable_name_claim_falls_back_to_the_address(settings):
    settings(unknown="create")
    claims = {"sub": "s9", "email": "new@example.com", "email_verified": True, "name": "A\x00B"}
    result = sso.sign_in(ISSUER, claims, client="c")
    assert result.is_new and result.person.name == "new@example.com"
    assert result.person.role is Role.PM and result.person.manager_id is None
    assert [p.id for p in sso.awaiting_placement()] == [result.person.id]


def test_the_same_person_at_two_issuers_has_two_identities(settings, org):
    settings()
    claims = {"sub": "same-sub", "email": "alice@example.com", "email_verified": True}
    first = sso.sign_in(ISSUER, claims, client="c").person
    second = sso.sign_in("https://other-idp.example.com", claims, client="c").person
    assert first.id == second.id == org.pm_a1.id
    rows = db.session.execute(select(ExternalIdentity.issuer)).scalars().all()
    assert sorted(rows) == [ISSUER, "https://other-idp.example.com"]


def test_a_known_identity_is_found_without_any_email(settings, org):
    settings()
    sso.sign_in(
        ISSUER, {"sub": "s1", "email": "alice@example.com", "email_verified": True}, client="c"
    )
    again = sso.sign_in(ISSUER, {"sub": "s1"}, client="c")
    assert again.person.id == org.pm_a1.id


def test_passwords_are_refused_only_in_sso_only_mode_and_not_for_the_break_glass(settings, org):
    settings(sso_only=False)
    assert sso.password_only_for() is None  # passwords on: anyone's
    settings(sso_only=True)
    assert sso.password_only_for() == ""  # no break-glass account yet: no one's
    sso_settings.set_break_glass(org.head.email)
    assert sso.password_only_for() == org.head.email
    assert "flask people password-link" in sso.password_link_refusal()


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("https://idp.example.com", "https://idp.example.com/.well-known/openid-configuration"),
        (
            "https://idp.example.com/realms/acme/",
            "https://idp.example.com/realms/acme/.well-known/openid-configuration",
        ),
        ("http://localhost:8080/.well-known/openid-configuration", None),
        ("http://[::1]:8080", "http://[::1]:8080/.well-known/openid-configuration"),
    ],
)
def test_discovery_urls_are_completed(ctx, typed, stored):
    assert sso_settings.check_discovery_url(typed) == (stored or typed)


@pytest.mark.parametrize(
    "typed",
    [
        "http://idp.example.com",
        "https://idp.example.com/?tenant=x",
        "https://user:pw@idp.example.com",
        "javascript:alert(1)",
        "https://idp.example.com/\x00",
    ],
)
def test_discovery_urls_that_are_refused(ctx, typed):
    with pytest.raises(ValidationError) as error:
        sso_settings.check_discovery_url(typed)
    assert error.value.field == "discovery_url"


def test_metadata_problems_name_what_is_wrong(ctx):
    good = {
        "issuer": ISSUER,
        "authorization_endpoint": ISSUER + "/auth",
        "token_endpoint": ISSUER + "/token",
        "jwks_uri": ISSUER + "/jwks",
    }
    assert sso_discovery.metadata_problems(good, ISSUER) == []
    assert sso_discovery.metadata_problems(good | {"issuer": ISSUER + "/"}, ISSUER) == []
    [mismatch] = sso_discovery.metadata_problems(good, "https://other.example.com")
    assert "issuer does not match" in mismatch.message
    [no_pkce] = sso_discovery.metadata_problems(
        good | {"code_challenge_methods_supported": ["plain"]}, ISSUER
    )
    assert "PKCE" in no_pkce.message
    [missing] = sso_discovery.metadata_problems({"issuer": ISSUER}, ISSUER)
    assert "authorization_endpoint, token_endpoint, jwks_uri" in missing.message


def test_a_second_subject_claiming_a_linked_address_is_refused_and_audited(settings, org):
    settings()
    alice = {"email": "alice@example.com", "email_verified": True}
    assert sso.sign_in(ISSUER, {"sub": "s1", **alice}, client="c").person.id == org.pm_a1.id
    taken = sso.sign_in(ISSUER, {"sub": "s2", **alice}, client="c")
    assert taken.person is None and taken.refusal is Refusal.OTHER_SUBJECT
    assert "already linked to a different Okta account" in taken.message
    subjects = db.session.execute(select(ExternalIdentity.subject)).scalars().all()
    assert subjects == ["s1"]
    row = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "person.sso_refused")
    ).scalar_one()
    assert row.entity_id == org.pm_a1.id and row.after["reason"] == "other_subject"


@pytest.mark.parametrize(
    "endpoint",
    [
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "userinfo_endpoint",
        "end_session_endpoint",
    ],
)
def test_every_endpoint_of_the_discovery_document_must_be_https_or_loopback(ctx, endpoint):
    metadata = {
        "issuer": ISSUER,
        "authorization_endpoint": ISSUER + "/auth",
        "token_endpoint": ISSUER + "/token",
        "jwks_uri": ISSUER + "/jwks",
        "userinfo_endpoint": "http://127.0.0.1:8080/me",  # loopback: allowed
    }
    assert sso_discovery.metadata_problems(metadata, ISSUER) == []
    metadata[endpoint] = "http://idp.example.com/" + endpoint
    [problem] = sso_discovery.metadata_problems(metadata, ISSUER)
    assert not problem.is_ok and endpoint in problem.message and "https" in problem.message


def test_only_allowed_domains_are_added_but_known_people_sign_in_from_anywhere(settings, org):
    settings(unknown="create", domains=["example.com"])
    outside = {"sub": "s1", "email": "x@gmail.com", "email_verified": True}
    refused = sso.sign_in(ISSUER, outside, client="c")
    assert refused.refusal is Refusal.DOMAIN_NOT_ALLOWED and "own email domains" in refused.message
    inside = {"sub": "s2", "email": "new@example.com", "email_verified": True}
    assert sso.sign_in(ISSUER, inside, client="c").is_new
    known = {"sub": "s3", "email": "alice@example.com", "email_verified": True}
    assert sso.sign_in(ISSUER, known, client="c").person.id == org.pm_a1.id


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("", ()),
        ("Example.com, @corp.example.org", ("example.com", "corp.example.org")),
        ("a.io a.io", ("a.io",)),
    ],
)
def test_allowed_domains_are_read_from_what_is_typed(typed, kept):
    assert sso_settings._check_domains(typed) == kept


@pytest.mark.parametrize("typed", ["not a domain", "example", "x@y.com", "-a.com"])
def test_allowed_domains_that_are_refused(typed):
    with pytest.raises(ValidationError, match="email domains"):
        sso_settings._check_domains(typed)
