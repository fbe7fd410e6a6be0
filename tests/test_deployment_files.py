"""The deployment files: compose.yaml, the Dockerfile's entrypoint (docker/entrypoint.sh) and the .env example.

No Docker daemon is needed: compose.yaml is checked against the Compose Specification's JSON schema and
against what the app really reads from its environment; the entrypoint's roles are run outside Docker, with
this project's virtualenv on PATH, against a temporary instance (and a real redis-server for the worker).
"""
import os
import ast
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from importlib.metadata import distribution
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from botocore.credentials import EnvProvider
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.served import free_port

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "compose.yaml"
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
ENV_EXAMPLE = ROOT / "docker" / "env.example"
PROCFILE = ROOT / "Procfile"
VENV_BIN = Path(sys.executable).parent

APP_ROLES = ("web", "worker", "beat", "migrate")
BACKING_SERVICES = ("postgres", "redis", "seaweedfs")
LONG_RUNNING = ("web", "worker", "beat", *BACKING_SERVICES)
START_TIMEOUT = 60

# os.environ.get("X"), os.environ["X"], os.getenv("X"), and instance_secret("X", …) (app/config.py).
ENV_READ = re.compile(r"""(?:os\.environ(?:\.get)?\s*[\[(]|os\.getenv\(|instance_secret\()\s*["']([A-Z][A-Z0-9_]*)["']""")
SHELL_READ = re.compile(r"\$\{([A-Z][A-Z0-9_]*)")
COMPOSE_VARIABLE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)(:?[?-])?")
ENV_EXAMPLE_NAME = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def app_services() -> dict[str, dict]:
    return {name: compose()["services"][name] for name in APP_ROLES}


def names_the_app_reads() -> set[str]:
    """Every environment variable read by name in the app, gunicorn's settings, wsgi.py and the entrypoint, and
    the credentials boto3 reads for the S3 store."""
    sources = [*(ROOT / "app").rglob("*.py"), ROOT / "gunicorn.conf.py", ROOT / "wsgi.py"]
    names = {name for path in sources for name in ENV_READ.findall(path.read_text())}
    names |= set(SHELL_READ.findall(ENTRYPOINT.read_text()))
    return names | {EnvProvider.ACCESS_KEY, EnvProvider.SECRET_KEY}


def env_example_names() -> set[str]:
    return set(ENV_EXAMPLE_NAME.findall(ENV_EXAMPLE.read_text()))


# --- compose.yaml -----------------------------------------------------------------------------------------

def test_compose_file_follows_the_compose_specification():
    """What `docker compose config` checks first: the file against the Compose Specification's schema
    (shipped by check-jsonschema), so a misspelt key or a wrong depends_on condition is refused here."""
    done = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_six_long_running_services_each_have_a_health_check():
    services = compose()["services"]
    for name in LONG_RUNNING:
        check = services[name].get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"


def test_web_worker_beat_and_migrate_are_one_image_each_in_its_role():
    services = app_services()
    assert len({(str(s["build"]), s["image"]) for s in services.values()}) == 1
    for role, service in services.items():
        assert service["command"] == [role]
    for role in ("web", "worker", "beat"):
        health = services[role]["healthcheck"]["test"]
        assert health[1:] == [f"/srv/ocop/{ENTRYPOINT.relative_to(ROOT)}", "health", role]


def test_migrations_run_once_before_anything_uses_the_database():
    """migrate is a one-shot service; every other app service waits until it has finished, so that web
    replicas never migrate at the same time and a worker never meets an old schema."""
    services = compose()["services"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for role in ("web", "worker", "beat"):
        depends = services[role]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        for backing in BACKING_SERVICES:
            assert depends[backing]["condition"] == "service_healthy"
            assert services[backing]["healthcheck"]["test"]


def test_every_app_setting_in_compose_is_one_the_app_reads():
    """No STORAGE_URI for STORAGE_URL: a misspelt name is silently ignored by the app and falls back to a
    default (local files on each node, the database as the rate-limit store)."""
    read = names_the_app_reads()
    for role, service in app_services().items():
        unknown = set(service["environment"]) - read
        assert not unknown, f"{role}: the app never reads {sorted(unknown)}"


def test_every_address_in_the_app_settings_names_a_service_of_the_stack():
    services = compose()["services"]
    for name, value in app_services()["web"]["environment"].items():
        if re.match(r"^(postgresql|redis|https?)://", str(value)) and name != "PUBLIC_BASE_URL":
            host = urlsplit(re.sub(r"\$\{[^}]*\}", "x", value)).hostname
            assert host in services, f"{name} points at {host}, which is no service"


def test_the_store_and_the_app_share_one_key_pair():
    store = compose()["services"]["seaweedfs"]["environment"]
    app_env = app_services()["web"]["environment"]
    for name in (EnvProvider.ACCESS_KEY, EnvProvider.SECRET_KEY):
        assert store[name] == app_env[name]


def test_every_variable_of_compose_is_in_the_env_example_and_secrets_are_required():
    text = COMPOSE.read_text()
    used = {name for name, _ in COMPOSE_VARIABLE.findall(text)}
    assert used == env_example_names()
    required = {name for name, mark in COMPOSE_VARIABLE.findall(text) if mark == ":?"}
    assert {"SECRET_KEY", "STAMP_KEY", "POSTGRES_PASSWORD", "PUBLIC_BASE_URL",
            EnvProvider.ACCESS_KEY, EnvProvider.SECRET_KEY} <= required


def test_the_secrets_file_stays_out_of_the_image_and_the_repository():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".env" in ignored and ".git" in ignored
    assert {".env", "/.env"} & set((ROOT / ".gitignore").read_text().split())


# --- what the image installs ------------------------------------------------------------------------------

def runtime_distributions() -> set[str]:
    """requirements.txt, the only file the image installs, with everything it pulls in."""
    lines = (line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines())
    todo, found = [Requirement(line) for line in lines if line], set()
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in found:
            continue
        found.add(name)
        environments = [{"extra": extra} for extra in requirement.extras or {""}]
        for text in distribution(name).requires or []:
            needed = Requirement(text)
            if needed.marker is None or any(needed.marker.evaluate(env) for env in environments):
                todo.append(needed)
    return found


def top_level_modules(distribution_name: str) -> set[str]:
    files = distribution(distribution_name).files or []
    return {file.parts[0].split(".")[0] for file in files if file.suffix in (".py", ".so") or len(file.parts) > 1}


def imported_modules() -> set[str]:
    """Top-level modules the app, the label library, the migrations and the server settings import."""
    sources = [*(ROOT / "app").rglob("*.py"), *(ROOT / "labels").rglob("*.py"), *(ROOT / "migrations").rglob("*.py"),
               ROOT / "wsgi.py", ROOT / "gunicorn.conf.py"]
    names = set()
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"app", "labels", "migrations", "wsgi"}


def test_the_image_installs_what_the_app_imports_and_what_its_roles_run():
    """The image installs requirements.txt only (no test tools): every module the app imports, every program the
    entrypoint's roles start, and the drivers of compose.yaml's addresses must come from it."""
    runtime = runtime_distributions()
    provided = set().union(*(top_level_modules(name) for name in runtime))
    assert not imported_modules() - provided, "imported, but installed only by requirements-test.txt or not at all"
    scripts = {entry.name for name in runtime for entry in distribution(name).entry_points if entry.group == "console_scripts"}
    started = set(re.findall(r"^\s*exec (\w+) ", ENTRYPOINT.read_text(), re.MULTILINE))
    assert started == {"gunicorn", "celery", "flask"} and started <= scripts
    assert "pybabel" in scripts  # the Dockerfile compiles the translations with it
    assert {"psycopg", "redis", "boto3"} <= runtime  # postgresql://, redis:// and s3:// in compose.yaml


# --- the entrypoint ---------------------------------------------------------------------------------------

@dataclass
class Stubs:
    """gunicorn, celery and flask replaced by scripts that print the command line they were given."""
    bin: Path

    def run(self, *args: str) -> str:
        env = {**os.environ, "PATH": f"{self.bin}:{os.environ['PATH']}", "INSTANCE_PATH": "/srv/ocop/instance"}
        done = subprocess.run([str(ENTRYPOINT), *args], capture_output=True, text=True, env=env, timeout=30)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()


@pytest.fixture
def stubs(tmp_path) -> Stubs:
    for program in ("gunicorn", "celery", "flask"):
        stub = tmp_path / program
        stub.write_text(f'#!/bin/sh\necho "{program} $*"\n')
        stub.chmod(0o755)
    return Stubs(tmp_path)


def test_the_entrypoint_is_an_executable_posix_shell_script():
    assert os.access(ENTRYPOINT, os.X_OK)
    subprocess.run(["sh", "-n", str(ENTRYPOINT)], check=True)
    assert '"/srv/ocop/docker/entrypoint.sh"' in (ROOT / "Dockerfile").read_text()


def test_each_role_runs_its_command_and_passes_extra_arguments_on(stubs):
    assert stubs.run() == "gunicorn -c gunicorn.conf.py wsgi:app"
    assert stubs.run("web", "--workers", "3") == "gunicorn -c gunicorn.conf.py wsgi:app --workers 3"
    assert stubs.run("worker") == "celery -A app.jobs.worker worker --concurrency 1 --pool solo --loglevel INFO"
    assert stubs.run("beat") == (
        "celery -A app.jobs.worker beat --loglevel INFO --schedule /srv/ocop/instance/celerybeat-schedule")
    assert stubs.run("migrate") == "flask --app wsgi db upgrade"
    assert stubs.run("flask", "users", "create", "--role", "admin") == "flask users create --role admin"
    assert stubs.run("echo", "xin chào") == "xin chào"


def procfile() -> dict[str, list[str]]:
    if not PROCFILE.exists():
        pytest.skip("no Procfile in this tree")
    lines = (line.split(":", 1) for line in PROCFILE.read_text().splitlines() if ":" in line and not line.startswith("#"))
    return {name.strip(): [Path(word).name if word.startswith(".venv/") else word for word in command.split()]
            for name, command in lines}


def test_the_image_runs_what_make_run_runs(stubs):
    """The Procfile (make run) and the image run the same commands; only `make run`'s single worker also
    carries beat (-B), which the image runs as a role of its own."""
    for name, command in procfile().items():
        image = stubs.run(name).split()
        if name == "worker" and "-B" in command:
            command = [word for word in command if word != "-B"]
            assert stubs.run("beat").split()[:4] == ["celery", "-A", "app.jobs.worker", "beat"]
        assert image == command, f"Procfile's {name} differs from the image's"


# --- the roles, really run --------------------------------------------------------------------------------

@dataclass
class Instance:
    """A production-like environment for the entrypoint: its own instance directory and SQLite database."""
    path: Path
    env: dict

    def run(self, *args: str, timeout: int = 180) -> subprocess.CompletedProcess:
        return subprocess.run([str(ENTRYPOINT), *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout)

    def start(self, *args: str) -> subprocess.Popen:
        log = open(self.path / f"{args[0]}.log", "wb")
        return subprocess.Popen([str(ENTRYPOINT), *args], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def healthy(self, role: str) -> bool:
        return self.run("health", role, timeout=60).returncode == 0

    def wait_for_log(self, role: str, process: subprocess.Popen, words: str) -> None:
        log, deadline = self.path / f"{role}.log", time.monotonic() + START_TIMEOUT
        while words not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"{role} did not log {words!r} in {START_TIMEOUT} s"
            time.sleep(0.2)

    def wait_healthy(self, role: str, process: subprocess.Popen) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not self.healthy(role):
            assert process.poll() is None, (self.path / f"{role}.log").read_text()
            assert time.monotonic() < deadline, f"{role} not healthy in {START_TIMEOUT} s"
            time.sleep(0.5)


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture
def instance(tmp_path) -> Instance:
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "STORAGE_URL")},
        "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
        "APP_CONFIG": "production",
        "SECRET_KEY": "k" * 64,
        "STAMP_KEY": "s" * 64,
        "INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'ocop.db'}",
        "BIND": f"127.0.0.1:{free_port()}",
        "ACCESS_LOG": "",
        "WEB_CONCURRENCY": "1",
    }
    return Instance(tmp_path, env)


@pytest.fixture
def redis_url(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (Debian package redis-server)")
    port = free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                               "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT
    while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout.strip() != b"PONG":
        assert time.monotonic() < deadline and server.poll() is None, "redis-server did not start"
        time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    stop(server)


def test_migrate_builds_the_schema_and_web_serves_it(instance):
    migrated = instance.run("migrate")
    assert migrated.returncode == 0, migrated.stderr
    with sqlite3.connect(instance.path / "ocop.db") as database:
        assert database.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
    assert not instance.healthy("web")
    web = instance.start("web")
    try:
        instance.wait_healthy("web", web)
        with urllib.request.urlopen(f"http://{instance.env['BIND']}/", timeout=10) as page:
            assert "OCOP" in page.read().decode()
    finally:
        stop(web)
    assert not instance.healthy("web")


def test_a_worker_answers_its_health_check_through_redis(instance, redis_url):
    instance.env["CELERY_BROKER_URL"] = redis_url
    worker = instance.start("worker")
    try:
        # Each unanswered ping waits its whole timeout: ask once the worker says it is ready.
        instance.wait_for_log("worker", worker, " ready.")
        assert instance.healthy("worker")
    finally:
        stop(worker)
    assert not instance.healthy("worker")


def test_beat_is_healthy_once_it_keeps_its_schedule(instance, redis_url):
    instance.env["CELERY_BROKER_URL"] = redis_url
    assert not instance.healthy("beat")
    beat = instance.start("beat")
    try:
        instance.wait_healthy("beat", beat)
        assert list(instance.path.glob("celerybeat-schedule*"))
    finally:
        stop(beat)
