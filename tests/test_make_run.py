"""`make run`: the web server and one job worker with beat, started together from the Procfile by honcho, and
both stopped by one Ctrl-C (SIGINT), leaving no process behind."""
import json
import os
import re
import shlex
import signal
import socket
import sqlite3
import subprocess
import time
from contextlib import closing
from pathlib import Path

import pytest
from honcho.environ import parse_procfile

from tests.served import ROOT, Visitor, flask_command, free_port, served_environment

START_SECONDS = 90
RUN_SECONDS = 180
STOP_SECONDS = 60


def make_run_command() -> list[str]:
    """The command `make run` ends with, as make itself expands it (a dry run: nothing is installed or run)."""
    # Under `make test` this make is a child of another: without the parent's flags and directory messages,
    # its last line is the command itself.
    env = {name: value for name, value in os.environ.items() if name not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    lines = subprocess.run(["make", "--no-print-directory", "-n", "run"], cwd=ROOT, capture_output=True, text=True,
                           check=True, timeout=60, env=env).stdout.strip().splitlines()
    return shlex.split(lines[-1])


def procfile() -> dict[str, list[str]]:
    with open(ROOT / "Procfile") as f:
        return {name: shlex.split(command) for name, command in parse_procfile(f.read()).processes.items()}


def test_make_run_starts_the_procfile_web_server_and_one_worker_with_beat():
    command = make_run_command()
    assert command[:2] == [".venv/bin/honcho", "start"] and command[command.index("-f") + 1] == "Procfile"
    processes = procfile()
    assert set(processes) == {"web", "worker"}
    assert processes["web"] == [".venv/bin/gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
    worker = processes["worker"]
    assert worker[:4] == [".venv/bin/celery", "-A", "app.jobs.worker", "worker"]
    assert "-B" in worker  # beat inside the one worker: one machine, one scheduler
    assert worker[worker.index("--pool") + 1] == "solo" and worker[worker.index("--concurrency") + 1] == "1"


def _descendants(pid: int) -> set[int]:
    """Every live process below `pid`, from /proc (honcho starts each of its processes in a session of its own)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        try:
            with closing(socket.create_connection(("127.0.0.1", port), timeout=1)):
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"nothing listened on {port}:\n{log.read_text(errors='replace')[-3000:]}")


def _lychee_batch(database: Path) -> int:
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)) as connection:
        return connection.execute("SELECT id FROM batches WHERE lot_code LIKE 'VT-%-A'").fetchone()[0]


def _order_run(visitor: Visitor, batch_id: int) -> int:
    form = visitor.get(f"/coop/batches/{batch_id}/runs/new").text
    token = re.search(r'name="request_token" type="hidden" value="([^"]+)"', form).group(1)
    answer = visitor.post_form(f"/coop/batches/{batch_id}/runs/new",
                               {"count": "20", "template": "a4-65", "ecc": "M", "offset_x_mm": "0", "offset_y_mm": "0",
                                "request_token": token, "more_than_quantity": "y"})
    assert answer.status == 302, answer.text[:1000]
    return int(answer.headers["Location"].rstrip("/").rsplit("/", 1)[1])


@pytest.mark.served
def test_honcho_runs_web_and_worker_a_run_ordered_on_the_web_finishes_and_ctrl_c_stops_both(tmp_path):
    port = free_port()
    env = served_environment(tmp_path, port)
    instance = Path(env["INSTANCE_PATH"])
    instance.mkdir(parents=True)
    flask_command(env, "db", "upgrade")
    flask_command(env, "demo")
    log = tmp_path / "honcho.log"
    with open(log, "wb") as out:
        honcho = subprocess.Popen(make_run_command(), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        _wait_for_port(port, honcho, log)
        visitor = Visitor(f"http://127.0.0.1:{port}")
        assert visitor.get("/").status == 200
        visitor.sign_in("lan@hongxuan.vn", "ocop-demo-2026")
        run_id = _order_run(visitor, _lychee_batch(instance / "ocop.db"))
        deadline, status = time.monotonic() + RUN_SECONDS, {}
        while time.monotonic() < deadline:
            status = json.loads(visitor.get(f"/coop/runs/{run_id}/status").text)
            if status["status"] in ("done", "failed"):
                break
            time.sleep(0.5)
        assert status.get("status") == "done", (status, log.read_text(errors="replace")[-3000:])
        assert visitor.get(f"/coop/runs/{run_id}/labels.pdf").status in (200, 302)

        started = _descendants(honcho.pid)
        output = log.read_text(errors="replace")
        assert re.search(r"web\.1\s+\| ", output) and re.search(r"worker\.1\s+\| ", output)
        assert "beat: Starting" in output  # the scheduler runs inside the worker
        honcho.send_signal(signal.SIGINT)  # what Ctrl-C sends
        honcho.wait(timeout=STOP_SECONDS)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in started):
            time.sleep(0.2)
        assert not [pid for pid in started if _alive(pid)], log.read_text(errors="replace")[-3000:]
        with closing(socket.socket()) as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0  # nobody listens any more
    finally:
        if honcho.poll() is None:
            os.killpg(honcho.pid, signal.SIGKILL)
            honcho.wait()
