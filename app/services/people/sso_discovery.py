"""The Sign-in settings page's "Test" button, and the same checks at every sign-in: fetch the
provider's discovery document and its signing keys, and say plainly what is wrong (unreachable,
not JSON, endpoints missing, an issuer that is not the discovery URL's). Network calls: call it
outside a database transaction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

import requests

WELL_KNOWN = "/.well-known/openid-configuration"
TIMEOUT_SECONDS = 10
# What a relying party needs from the discovery document to run the code flow and check tokens.
REQUIRED_METADATA = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


ENDPOINTS = (
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "userinfo_endpoint",
    "end_session_endpoint",
)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def is_safe_endpoint(url: object) -> bool:
    """An https URL, or http on this machine's loopback (as the discovery URL must be)."""
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if not host:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and is_loopback(host))


def issuer_of(discovery_url: str) -> str:
    """The issuer a discovery URL belongs to (OpenID Connect Discovery 1.0, §4.3)."""
    return discovery_url.removesuffix(WELL_KNOWN).rstrip("/")


@dataclass(frozen=True)
class CheckResult:
    is_ok: bool
    message: str


@dataclass(frozen=True)
class DiscoveryCheck:
    results: tuple[CheckResult, ...]
    discovery_url: str = ""  # what was checked

    @property
    def is_ok(self) -> bool:
        return bool(self.results) and all(result.is_ok for result in self.results)


def check_discovery(discovery_url: str) -> DiscoveryCheck:
    """Fetch the discovery document and the signing keys, and say what is wrong: unreachable,
    not JSON, endpoints missing, an issuer that is not the discovery URL's. Network calls: call
    it with no database transaction open."""
    if not discovery_url:
        return DiscoveryCheck((CheckResult(False, "No discovery URL is set."),))
    return replace(_check(discovery_url), discovery_url=discovery_url)


def _check(discovery_url: str) -> DiscoveryCheck:
    metadata, problem = _fetch_json(discovery_url, "The discovery URL")
    if problem:
        return DiscoveryCheck((CheckResult(False, problem),))
    results = list(metadata_problems(metadata, issuer_of(discovery_url)))
    if results:
        return DiscoveryCheck(tuple(results))
    results.append(CheckResult(True, f"Discovery works: the issuer is {metadata['issuer']}."))
    results.append(_check_keys(str(metadata["jwks_uri"])))
    if metadata.get("end_session_endpoint"):
        results.append(
            CheckResult(True, "The provider has a sign-out page: Rungs offers it on sign-out.")
        )
    return DiscoveryCheck(tuple(results))


def metadata_problems(metadata: dict[str, Any], expected_issuer: str) -> list[CheckResult]:
    """What makes a discovery document unusable (also checked at every sign-in)."""
    missing = [name for name in REQUIRED_METADATA if not isinstance(metadata.get(name), str)]
    if missing:
        return [CheckResult(False, f"The discovery document has no {', '.join(missing)}.")]
    problems = []
    unsafe = [
        name
        for name in ENDPOINTS
        if metadata.get(name) is not None and not is_safe_endpoint(metadata.get(name))
    ]
    if unsafe:
        problems.append(
            CheckResult(
                False,
                f"The discovery document names {', '.join(unsafe)} without https (plain http "
                "only on this machine's loopback): tokens and the client secret would cross the "
                "network readable.",
            )
        )
    if metadata["issuer"].rstrip("/") != expected_issuer:
        problems.append(
            CheckResult(
                False,
                f"The issuer does not match: the document says {metadata['issuer'][:200]}, but "
                f"the discovery URL belongs to {expected_issuer}. Use the discovery URL of that "
                "issuer (for Entra ID, the tenant's own, not /common/).",
            )
        )
    if "code" not in metadata.get("response_types_supported", ["code"]):
        problems.append(
            CheckResult(False, "The provider does not offer the authorization code flow.")
        )
    methods = metadata.get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" not in methods:
        problems.append(
            CheckResult(False, "The provider does not offer PKCE with S256, which Rungs uses.")
        )
    return problems


def _check_keys(jwks_uri: str) -> CheckResult:
    keys, problem = _fetch_json(jwks_uri, "The provider's signing keys (jwks_uri)")
    if problem:
        return CheckResult(False, problem)
    if not isinstance(keys.get("keys"), list) or not keys["keys"]:
        return CheckResult(False, "The provider's key set (jwks_uri) holds no keys.")
    count = len(keys["keys"])
    return CheckResult(True, f"The provider publishes {count} signing key{'s' * (count > 1)}.")


def _fetch_json(url: str, what: str) -> tuple[dict[str, Any], str | None]:
    try:
        response = requests.get(
            url, timeout=TIMEOUT_SECONDS, headers={"Accept": "application/json"}
        )
    except requests.RequestException as error:
        return {}, f"{what} could not be reached ({url[:200]}): {type(error).__name__}."
    if response.status_code != 200:
        return {}, f"{what} answered HTTP {response.status_code} instead of 200 ({url[:200]})."
    try:
        data = response.json()
    except ValueError:
        start = " ".join(response.text[:60].split())
        return {}, f"{what} did not answer JSON ({url[:200]}); it starts with “{start}”."
    if not isinstance(data, dict):
        return {}, f"{what} answered JSON that is not an object ({url[:200]})."
    return data, None
