"""Authorization: deny by default, a matrix of roles and routes, and object-level 404s."""

import re

import pytest
from werkzeug.routing import IntegerConverter

from app import access, policy
from tests.factories import sign_in


def sample_value(rule, argument):
    """A value of the right type for any URL argument, so that every new route is walked too."""
    converter = type(rule._converters[argument]).__name__
    if isinstance(rule._converters[argument], IntegerConverter):  # the app's has a maximum
        return 1
    if converter == "PathConverter":
        return "css/rungs.css"
    if converter == "AnyConverter":
        return sorted(rule._converters[argument].items)[0]
    return "sample"


def all_routes(app):
    """(endpoint, method, path) for every rule in the URL map."""
    for rule in app.url_map.iter_rules():
        path = rule.build({arg: sample_value(rule, arg) for arg in rule.arguments})[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, path


def test_every_endpoint_is_behind_the_policy_or_explicitly_public(app):
    unmarked = []
    for endpoint, view in app.view_functions.items():
        marked = getattr(view, "policy_action", None) in policy.RULES
        public = endpoint in access.PUBLIC_ENDPOINTS or getattr(view, "is_public", False)
        if marked == public:  # neither, or (confusingly) both
            unmarked.append(endpoint)
    assert unmarked == []


PUBLIC = {
    "static",
    "auth.login",
    "auth.set_password",
    "auth.forgot_password",
    "auth.reset_requested",
    "messages.unsubscribe",
    "two_factor_sign_in.code",  # the second step: the person is not signed in yet
    "two_factor_sign_in.recovery_code",
    "sso.start",  # single sign-on: off to the provider, and back
    "sso.callback",
    "api.openapi_document",  # the API's description: no data in it
    "api_problems.index",  # what each API problem type means: no data in it
    "api_problems.problem_type",
}


def test_public_endpoints_are_exactly_these(app):
    public = {e for e, v in app.view_functions.items() if getattr(v, "is_public", False)}
    assert public | access.PUBLIC_ENDPOINTS == PUBLIC


def test_an_unmarked_view_is_refused_at_run_time(make_app, org):
    fresh = make_app()
    fresh.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    client = fresh.test_client()
    assert client.get("/forgotten").status_code == 302  # anonymous: sign in first
    sign_in(client, org.head)
    response = client.get("/forgotten")
    assert response.status_code == 403
    assert "secret" not in response.get_data(as_text=True)


def test_unknown_actions_are_denied(org, ctx):
    from app.services import people

    assert not policy.can(people.get_person(org.head.id), "no.such.action")
    with pytest.raises(LookupError):
        access.requires("no.such.action")


def test_anonymous_requests_never_reach_a_private_page(app, client):
    token = client.csrf_token()
    checked = 0
    for endpoint, method, path in all_routes(app):
        if endpoint in PUBLIC:
            continue
        response = client.open(path, method=method, data={"csrf_token": token})
        assert response.status_code in (302, 401, 404), (method, path, response.status_code)
        if response.status_code == 302:
            assert response.headers["Location"].startswith("/login?next="), (method, path)
        checked += 1
    assert checked >= 10


def test_a_bad_password_link_is_not_found(client):
    assert client.get("/password/not-a-real-token").status_code == 404


ROLES = ("pm_a1", "manager_a", "head")
# path template, method, expected status for (pm, manager, head)
MATRIX = [
    ("/", "GET", (200, 200, 200)),
    ("/account/password", "GET", (200, 200, 200)),
    ("/people/{self}", "GET", (200, 200, 200)),
    ("/people/", "GET", (403, 403, 200)),
    ("/people/new", "GET", (403, 403, 200)),
    ("/people/import", "GET", (403, 403, 200)),
    ("/people/{pm_b1}/edit", "GET", (403, 403, 200)),
    ("/people/{pm_b1}/password-link", "POST", (403, 403, 200)),
    ("/people/{pm_b1}/invitation", "POST", (403, 403, 302)),
    ("/people/{pm_b1}/deactivate", "POST", (403, 403, 302)),
    ("/people/{pm_b1}/reactivate", "POST", (403, 403, 302)),
]


@pytest.mark.parametrize(("role_index", "role"), list(enumerate(ROLES)))
@pytest.mark.parametrize(("template", "method", "expected"), MATRIX)
def test_role_route_matrix(client, org, role_index, role, template, method, expected):
    person = getattr(org, role)
    sign_in(client, person)
    path = template.format(self=person.id, pm_b1=org.pm_b1.id)
    response = client.post_form(path) if method == "POST" else client.get(path)
    assert response.status_code == expected[role_index]


# who looks, at whom, may they see the profile
PROFILE_CASES = [
    ("manager_a", "pm_a1", True),  # direct report
    ("manager_a", "pm_d1", True),  # skip-level report
    ("director", "pm_d1", True),
    ("manager_a", "pm_b1", False),  # another manager's report
    ("manager_b", "pm_d1", False),
    ("director", "pm_a1", False),  # a peer's report
    ("pm_a1", "manager_a", True),  # one's own manager
    ("pm_d1", "manager_a", True),  # one's manager's manager
    ("pm_a1", "pm_a2", False),  # a peer
    ("pm_a2", "pm_b1", True),  # mentor sees mentee
    ("pm_b1", "pm_a2", True),  # mentee sees mentor
    ("pm_a1", "pm_b1", False),
    ("head", "pm_d1", True),
]


@pytest.mark.parametrize(("viewer", "subject", "allowed"), PROFILE_CASES)
def test_profiles_outside_ones_lines_are_not_found(client, org, viewer, subject, allowed):
    sign_in(client, getattr(org, viewer))
    response = client.get(f"/people/{getattr(org, subject).id}")
    assert response.status_code == (200 if allowed else 404)
    if not allowed:
        assert getattr(org, subject).name not in response.get_data(as_text=True)


def test_a_missing_person_and_a_hidden_one_look_the_same(client, org):
    sign_in(client, org.pm_a1)
    hidden = client.get(f"/people/{org.pm_b1.id}")
    missing = client.get("/people/999999")
    assert hidden.status_code == missing.status_code == 404
    strip = re.compile(r'name="csrf_token" value="[^"]+"')
    assert strip.sub("", hidden.get_data(as_text=True)) == strip.sub(
        "", missing.get_data(as_text=True)
    )


def test_links_are_shown_only_to_profiles_one_may_open(client, org):
    sign_in(client, org.pm_a2)
    page = client.get(f"/people/{org.manager_a.id}").get_data(as_text=True)
    assert f'href="/people/{org.pm_a2.id}"' in page  # oneself
    assert f'href="/people/{org.pm_a1.id}"' not in page  # a peer: name only
    assert "Alice Pm" in page
