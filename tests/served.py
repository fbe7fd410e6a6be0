"""The application as it runs in production: gunicorn with the shipped gunicorn.conf.py, on a real SQLite file
migrated and loaded with the demo data by the same `flask` commands as `make run`; and a small HTTP client
that keeps cookies, signs in with the CSRF token, and never follows redirects."""
import http.cookiejar
import os
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import closing
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
REQUEST_TIMEOUT = 30  # seconds for one request; a hung worker fails the test instead of hanging it
START_TIMEOUT = 60
COMMAND_TIMEOUT = 180


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Answer:
    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def content_type(self) -> str:
        return self.headers.get_content_type()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx comes back as an answer, to be checked like any other


@dataclass
class Visitor:
    """One browser: its own cookies, the site's base URL."""
    base: str
    cookies: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def __post_init__(self):
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirects)

    def request(self, method: str, path: str, data: dict | None = None, headers: dict | None = None) -> Answer:
        body = urllib.parse.urlencode(data or {}, doseq=True).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers or {})
        try:
            with self._opener.open(request, timeout=REQUEST_TIMEOUT) as response:
                return Answer(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:  # 3xx (not followed), 4xx and 5xx: answers too
            with error:
                return Answer(error.code, error.headers, error.read())

    def get(self, path: str, headers: dict | None = None) -> Answer:
        return self.request("GET", path, headers=headers)

    def csrf_token(self, path: str = "/") -> str:
        match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', self.get(path).text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def post_form(self, path: str, data: dict, token_from: str | None = None) -> Answer:
        """POST like a browser, with the CSRF token of the form's page (or of the home page)."""
        return self.request("POST", path, {"csrf_token": self.csrf_token(token_from or path), **data})

    def sign_in(self, login: str, password: str) -> None:
        answer = self.post_form("/sign-in", {"login": login, "password": password})
        assert answer.status == 302, (answer.status, answer.text[:500])


@dataclass
class ServedApp:
    """A running gunicorn; `stop()` ends it (and it is what the fixtures call at the end)."""
    base: str
    instance: Path
    database: Path
    env: dict
    process: subprocess.Popen
    log: Path  # gunicorn's own output and the application's log

    @property
    def access_log(self) -> str:
        """gunicorn's access log (ACCESS_LOG): one line per request, with its status."""
        return Path(self.env["ACCESS_LOG"]).read_text(errors="replace")

    def visitor(self) -> Visitor:
        return Visitor(self.base)

    def query(self, sql: str, *params) -> list[tuple]:
        """Read the served database directly (a short read-only connection, like any other reader)."""
        with closing(sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=10)) as connection:
            return connection.execute(sql, params).fetchall()

    def run_python(self, code: str) -> str:
        """Run a script in the served application's environment (its configuration, its database)."""
        done = subprocess.run([sys.executable, "-c", code], env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def server_log(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # gunicorn's graceful shutdown: workers finish their request
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def served_environment(tmp: Path, port: int, **settings: str) -> dict:
    instance = tmp / "instance"
    env = {name: value for name, value in os.environ.items() if name not in ("TEST_DATABASE_URL", "FLASK_APP")}
    env.update({
        "APP_CONFIG": "development",
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": f"sqlite:///{instance / 'ocop.db'}",
        "SECRET_KEY": secrets.token_hex(32),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "ACCESS_LOG": str(tmp / "access.log"),
        **settings,
    })
    return env


def flask_command(env: dict, *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    assert done.returncode == 0, f"flask {' '.join(args)}: {done.stderr[-3000:]}"


def start_gunicorn(tmp: Path, **settings: str) -> ServedApp:
    """Migrate a new database, load the demo data, and start gunicorn on a free loopback port, as `make run` does."""
    port = free_port()
    env = served_environment(tmp, port, **settings)
    Path(env["INSTANCE_PATH"]).mkdir(parents=True)
    flask_command(env, "db", "upgrade")
    flask_command(env, "demo")
    log = tmp / "gunicorn.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([str(GUNICORN), "-c", "gunicorn.conf.py", "wsgi:app"], env=env, cwd=ROOT,
                                   stdout=out, stderr=subprocess.STDOUT)
    served = ServedApp(f"http://127.0.0.1:{port}", Path(env["INSTANCE_PATH"]), Path(env["INSTANCE_PATH"]) / "ocop.db",
                       env, process, log)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{served.server_log()[-3000:]}")
        try:
            with closing(socket.create_connection(("127.0.0.1", port), timeout=1)):
                break
        except OSError:
            if time.monotonic() > deadline:
                served.stop()
                raise RuntimeError(f"gunicorn did not listen within {START_TIMEOUT} s:\n{served.server_log()[-3000:]}")
            time.sleep(0.2)
    return served
