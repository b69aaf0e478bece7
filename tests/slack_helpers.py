"""A local Slack for tests: a threading HTTP server on a free loopback port that records what
the slack_sdk sends and answers with Slack's own response shapes (ok/error bodies, the `user` of
users.lookupByEmail, `channel`/`ts` of chat.postMessage, 429 with Retry-After, the webhook's
plain-text answers).

    with FakeSlack() as fake:
        app.config["SLACK_API_URL"] = fake.api_url
        fake.users["alice@example.com"] = "U0ALICE"
        fake.fail("chat.postMessage", "invalid_auth")       # the next call is refused
        fake.rate_limit("chat.postMessage", retry_after=30)  # the next call gets a 429
        ... fake.calls("chat.postMessage")[0].form["channel"]
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

BOT_TOKEN = "xoxb-1111-2222-abcdefghijklmnop"
WEBHOOK_PATH = "/services/T0TEAM/B0HOOK/abcdefghijklmnopqrstuvwx"


@dataclass
class Call:
    method: str  # "chat.postMessage", or "webhook"
    headers: dict[str, str]
    form: dict[str, str]
    json: dict


@dataclass
class Answer:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"


class FakeSlack:
    def __init__(self, token: str = BOT_TOKEN):
        self.token = token
        self.users: dict[str, str] = {}  # email → Slack user id
        self.deleted: set[str] = set()  # emails of deactivated Slack accounts
        self.requests: list[Call] = []
        self.scripted: dict[str, list[Answer]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    @property
    def webhook_url(self) -> str:
        return f"{self.base}{WEBHOOK_PATH}"

    def __enter__(self) -> FakeSlack:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    # --- scripting -------------------------------------------------------------------------

    def fail(self, method: str, error: str, *, status: int = 200) -> None:
        """The next call of `method` answers {"ok": false, "error": error}."""
        self.script(method, Answer(status, json.dumps({"ok": False, "error": error})))

    def rate_limit(self, method: str, *, retry_after: int = 30) -> None:
        """The next call of `method` is refused as Slack does when rate limited."""
        body = json.dumps({"ok": False, "error": "ratelimited"})
        self.script(method, Answer(429, body, {"Retry-After": str(retry_after)}))

    def fail_webhook(self, status: int, code: str) -> None:
        self.script("webhook", Answer(status, code, content_type="text/html"))

    def script(self, method: str, answer: Answer) -> None:
        with self._lock:
            self.scripted.setdefault(method, []).append(answer)

    def calls(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.requests if call.method == method]

    # --- answering -------------------------------------------------------------------------

    def answer(self, call: Call) -> Answer:
        with self._lock:
            self.requests.append(call)
            scripted = self.scripted.get(call.method)
            if scripted:
                return scripted.pop(0)
        if call.method == "webhook":
            return Answer(200, "ok", content_type="text/html")
        if call.headers.get("authorization") != f"Bearer {self.token}":
            return _json({"ok": False, "error": "invalid_auth"})
        handler = getattr(self, "_" + call.method.replace(".", "_"), None)
        if handler is None:
            return _json({"ok": False, "error": "unknown_method"}, 404)
        return handler(call)

    def _auth_test(self, call: Call) -> Answer:
        return _json(
            {
                "ok": True,
                "url": "https://orbit.slack.com/",
                "team": "Orbit",
                "user": "rungs",
                "team_id": "T0TEAM",
                "user_id": "U0BOT",
                "bot_id": "B0BOT",
                "is_enterprise_install": False,
            }
        )

    def _users_lookupByEmail(self, call: Call) -> Answer:
        email = call.form.get("email", "")
        if email not in self.users:
            return _json({"ok": False, "error": "users_not_found"})
        user_id = self.users[email]
        return _json(
            {
                "ok": True,
                "user": {
                    "id": user_id,
                    "team_id": "T0TEAM",
                    "name": email.split("@")[0],
                    "deleted": email in self.deleted,
                    "real_name": email.split("@")[0].title(),
                    "tz": "Europe/London",
                    "is_bot": False,
                    "is_admin": False,
                    "profile": {"email": email, "display_name": email.split("@")[0]},
                },
            }
        )

    def _chat_postMessage(self, call: Call) -> Answer:
        fields = call.json or call.form
        channel = str(fields.get("channel", ""))
        if channel not in self.users.values():
            return _json({"ok": False, "error": "channel_not_found"})
        return _json(
            {
                "ok": True,
                "channel": "D0" + channel[1:],
                "ts": "1765000000.000100",
                "message": {"type": "message", "text": fields.get("text"), "bot_id": "B0BOT"},
            }
        )

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8")
                kind = self.headers.get("Content-Type", "")
                body_json = json.loads(raw) if "json" in kind and raw else {}
                form = dict(parse_qsl(raw)) if "urlencoded" in kind else {}
                if self.path.startswith("/api/"):
                    method = self.path[len("/api/") :].split("?")[0]
                elif self.path.startswith("/services/"):
                    method = "webhook"
                else:
                    method = "unknown"
                headers = {name.lower(): value for name, value in self.headers.items()}
                answer = fake.answer(Call(method, headers, form, body_json))
                data = answer.body.encode("utf-8")
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(data)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler


def _json(data: dict, status: int = 200) -> Answer:
    return Answer(status, json.dumps(data))
