"""A real OpenID Provider for the SSO tests: tests/oidc/provider.js (the npm package
oidc-provider) started with Node.js on a free loopback port, once per test process.

    def test_x(oidc, client):
        oidc.account("u-alice", email="alice@example.com")
        start = client.get("/login/sso")                      # Rungs → the provider
        callback = oidc.authorize(start.headers["Location"], "u-alice")
        client.get(callback)                                   # the provider → Rungs

`authorize` plays the browser at the provider with requests: it follows the provider's
redirects, fills in its development login form (any account id, any password) and its consent
form, and stops at the redirect back to Rungs (RP_BASE), which the test client then follows.
Node.js and the installed package (`make install-dev` runs `npm ci --prefix tests/oidc`) are
required: without them these tests fail, they do not skip.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
RP_BASE = "http://localhost"  # where the Flask test client serves Rungs (RUNGS_BASE_URL)
CLIENT_SECRET = "rungs-test-client-secret"  # tests/oidc/provider.js
START_SECONDS = 30


class _Form(HTMLParser):
    """The first form of a page: its action and its inputs' names and values."""

    def __init__(self):
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._done = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = values.get("action") or ""
        elif tag == "input" and self.action is not None and not self._done and values.get("name"):
            self.fields[values["name"]] = values.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form" and self.action is not None:
            self._done = True


class OidcProvider:
    def __init__(self, port: int, accounts_file: Path):
        self.port = port
        self.issuer = f"http://127.0.0.1:{port}"
        self.discovery_url = f"{self.issuer}/.well-known/openid-configuration"
        self._accounts_file = accounts_file
        self._accounts: dict[str, dict] = {}

    def account(
        self, sub: str, *, email: str | None, email_verified: bool = True, name: str | None = None
    ) -> None:
        """Who the provider says `sub` is (read by the provider at each sign-in)."""
        claims: dict = {"email_verified": email_verified}
        if email is not None:
            claims["email"] = email
        if name is not None:
            claims["name"] = name
        self._accounts[sub] = claims
        self._accounts_file.write_text(json.dumps(self._accounts))

    def authorize(self, url: str, login: str, browser: requests.Session | None = None) -> str:
        """Play the browser at the provider from Rungs' redirect until the provider sends it
        back to Rungs; returns that URL (the callback, with code and state)."""
        own = browser is None
        browser = browser or requests.Session()
        try:
            return self._walk(browser, browser.get(url, allow_redirects=False, timeout=10), login)
        finally:
            if own:
                browser.close()

    def _walk(self, browser: requests.Session, response: requests.Response, login: str) -> str:
        for _ in range(12):
            if response.is_redirect:
                location = urljoin(response.url, response.headers["Location"])
                if location.startswith(RP_BASE + "/"):
                    return location
                response = browser.get(location, allow_redirects=False, timeout=10)
                continue
            form = _Form()
            form.feed(response.text)
            if response.status_code != 200 or form.action is None:
                raise AssertionError(
                    f"the provider answered {response.status_code}: {response.text[:800]}"
                )
            fields = dict(form.fields)
            if fields.get("prompt") == "login":
                fields.update(login=login, password="any password")
            response = browser.post(
                urljoin(response.url, form.action),
                data=fields,
                allow_redirects=False,
                timeout=10,
            )
        raise AssertionError("the provider never sent the browser back to Rungs")


def _start(tmp_dir: Path):
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "The SSO tests run a real OpenID Provider with Node.js, and `node` is not on PATH. "
            "Install Node.js 20+ and npm (Debian: apt-get install nodejs npm), then run "
            "`make install-dev`.",
            pytrace=False,
        )
    if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.fail(
            f"The OpenID Provider's packages are not installed in {OIDC_DIR}/node_modules: run "
            "`make install-dev` (it runs `npm ci --prefix tests/oidc`; npm must be installed).",
            pytrace=False,
        )
    accounts = tmp_dir / "accounts.json"
    accounts.write_text("{}")
    log = (tmp_dir / "provider.log").open("w")
    env = {**os.environ, "OIDC_ACCOUNTS": str(accounts), "OIDC_RP_BASE": RP_BASE}
    process = subprocess.Popen(
        [node, "provider.js"], cwd=OIDC_DIR, env=env, stdout=subprocess.PIPE, stderr=log, text=True
    )
    return process, accounts, log


def _wait_for_port(process: subprocess.Popen, log_path: Path) -> int:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if ready:
            line = process.stdout.readline()
            if line.startswith("listening "):
                return int(line.split()[1])
        if process.poll() is not None:
            break
    process.kill()
    pytest.fail(f"The OpenID Provider did not start: {log_path.read_text()[-2000:]}", pytrace=False)


def _wait_for_discovery(provider: OidcProvider) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        try:
            if requests.get(provider.discovery_url, timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    pytest.fail("The OpenID Provider never served its discovery document.", pytrace=False)


@pytest.fixture(scope="session")
def oidc(tmp_path_factory):
    """The provider, started once per test process and stopped at the end."""
    tmp_dir = tmp_path_factory.mktemp("oidc")
    process, accounts, log = _start(tmp_dir)
    try:
        provider = OidcProvider(_wait_for_port(process, tmp_dir / "provider.log"), accounts)
        _wait_for_discovery(provider)
        yield provider
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
        log.close()
