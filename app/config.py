"""Configuration classes, read from the environment."""
import os
import secrets
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("INSTANCE_PATH", ROOT / "instance"))
MIN_SECRET_LENGTH = 32


def database_url() -> str:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE / 'ocop.db'}"
    # psycopg 3 is the driver; plain postgres:// URLs from hosting panels name none.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def broker_transport_options(broker_url: str) -> dict:
    """Redis hands a message whose worker died (never acknowledged) to another worker after
    CELERY_VISIBILITY_TIMEOUT seconds; label runs do not wait for that: requeue_stale_runs sends anew for a run
    whose heartbeat stopped (app/services/run_queue.py). kombu's SQLAlchemy transport hands its options to
    create_engine (it looks for a message every second): its statements commit one by one, as kombu expects of
    SQLite, instead of holding the queue's write lock from its first read (app/database.py's BEGIN IMMEDIATE)."""
    if broker_url.startswith("sqla+"):
        return {"execution_options": {"single_statements": True}}
    return {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))}


def celery_settings(instance: Path) -> dict:
    """Celery's settings: Redis when CELERY_BROKER_URL names it, else a queue in instance/jobs.db (app/jobs/)."""
    broker = os.environ.get("CELERY_BROKER_URL") or f"sqla+sqlite:///{instance / 'jobs.db'}"
    return {
        "broker_url": broker,
        "task_ignore_result": True,  # a run's state lives on its row, never in a result store
        "task_acks_late": True,  # a message is removed only once its task has finished…
        "task_reject_on_worker_lost": True,  # …and goes back to the queue when its worker dies under it
        "worker_prefetch_multiplier": 1,  # a busy worker holds no message another worker could run
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": broker_transport_options(broker),
        "include": ["app.jobs.tasks", "app.jobs.periodic"],
        "beat_schedule": beat_schedule(),
        "beat_schedule_filename": str(instance / "celerybeat-schedule"),  # beat's state, never in the working dir
        "timezone": "Asia/Ho_Chi_Minh",  # crontab hours are Vietnam's; messages still carry UTC times
    }


def beat_schedule() -> dict:
    """What celery beat starts and when (app/jobs/periodic.py). EXPIRY_NOTICE_EVERY (seconds) replaces the daily
    expiry-notice time with an interval, for tests and demonstrations."""
    from celery.schedules import crontab

    every = os.environ.get("EXPIRY_NOTICE_EVERY")
    hourly = crontab(minute=17)
    return {
        "expiry-notices": {"task": "app.jobs.periodic.expiry_notices",
                           # just after midnight in Vietnam, when a day passes; all jobs are safe to repeat
                           "schedule": float(every) if every else crontab(hour=0, minute=5)},
        "requeue-stale-runs": {"task": "app.jobs.tasks.requeue_stale_runs", "schedule": 30.0},
        "purge-idle-sessions": {"task": "app.jobs.periodic.purge_idle_sessions", "schedule": hourly},
        "purge-expired-reset-links": {"task": "app.jobs.periodic.purge_expired_reset_links", "schedule": hourly},
        "purge-idempotency-keys": {"task": "app.jobs.periodic.purge_idempotency_keys", "schedule": hourly},
        "purge-rate-limit-counters": {"task": "app.jobs.periodic.purge_rate_limit_counters", "schedule": crontab(minute="*/10")},
        "remove-stale-imports": {"task": "app.jobs.periodic.remove_stale_imports", "schedule": hourly},
    }


def instance_secret(env_name: str = "SECRET_KEY", filename: str = "secret_key") -> str:
    """Return the secret from the environment, else one generated once into instance/ (mode 0600)."""
    if os.environ.get(env_name):
        return os.environ[env_name]
    path = INSTANCE / filename
    if not path.exists():
        INSTANCE.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=INSTANCE, prefix=f".{filename}.")  # mkstemp creates it 0600
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        try:
            # link() fails if the file exists: when two workers start together, the first key wins
            # and both read it; nobody ever reads a half-written file.
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return path.read_text().strip()


def instance_secret_key() -> str:
    return instance_secret("SECRET_KEY", "secret_key")


class Config:
    INSTANCE_PATH = str(INSTANCE)
    SQLALCHEMY_DATABASE_URI = database_url()
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    UPLOAD_FOLDER = str(INSTANCE / "uploads")
    # Where run PDFs, photos and waiting imports are stored (app/storage.py): unset, the instance directory;
    # `s3://<bucket>`, an S3-compatible store (credentials: boto3's AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
    STORAGE_URL = os.environ.get("STORAGE_URL", "")
    S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL", "")
    S3_REGION = os.environ.get("S3_REGION", "us-east-1")
    # 1: a PDF download is a redirect to a 5-minute presigned URL; 0: streamed through the app, for a store
    # the browsers cannot reach.
    S3_PRESIGN = os.environ.get("S3_PRESIGN", "1") != "0"
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    # Larger uploads are refused before decoding (any phone photo fits): a worker's memory stays bounded.
    PHOTO_MAX_PIXELS = 24_000_000
    PHOTO_DISPLAY_SIZE = 1280
    PHOTO_THUMB_SIZE = 320
    LANGUAGES = ("vi", "en")  # the dashboards
    PUBLIC_LANGUAGES = ("vi", "en", "zh")  # the scan page: much of the lychee goes to China
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    # Unset: counters live in the application's database, shared by all workers (app/rate_limit_storage.py).
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI")
    SIGN_IN_LIMIT = os.environ.get("SIGN_IN_LIMIT", "10 per minute;50 per hour")
    # Failed sign-ins per account, from any address (behind a proxy every client shares one); the window
    # always ends, so the real user is never locked out for longer than this.
    SIGN_IN_ACCOUNT_LIMIT = os.environ.get("SIGN_IN_ACCOUNT_LIMIT", "10 per 15 minutes")
    MAX_RUN_STAMPS = 100_000
    # A stamp looks copied once this many phones have scanned it, first seen on at least this many different
    # days: far more than a family and its shop, and more days than a fair (README, "The scan page").
    SCAN_COPY_PHONES = int(os.environ.get("SCAN_COPY_PHONES", "12"))
    SCAN_COPY_DAYS = int(os.environ.get("SCAN_COPY_DAYS", "3"))
    # Scans are written behind, in one statement per worker this often (seconds); 0 writes each at once.
    SCAN_WRITE_DELAY = float(os.environ.get("SCAN_WRITE_DELAY", "0.25"))
    UNKNOWN_CODE_LIMIT = os.environ.get("UNKNOWN_CODE_LIMIT", "20 per minute;200 per day")
    FAKE_REPORT_LIMIT = os.environ.get("FAKE_REPORT_LIMIT", "5 per hour")
    # A run whose worker has not reported for this long is shown as interrupted, with a retry button.
    RUN_STALE_SECONDS = 30
    CELERY = celery_settings(INSTANCE)
    # How many reverse proxies (nginx…) stand in front of the app and set X-Forwarded-For/-Proto/-Host.
    # 0: none, the headers are ignored (else any client could pick the address its rate limits count on).
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    # Sent on every response when set; development serves plain http://127.0.0.1, where it has no place.
    STRICT_TRANSPORT_SECURITY = os.environ.get("STRICT_TRANSPORT_SECURITY", "")

    @classmethod
    def load_secret(cls) -> None:
        cls.SECRET_KEY = instance_secret_key()
        cls.STAMP_KEY = instance_secret("STAMP_KEY", "stamp_key")


class DevelopmentConfig(Config):
    pass


class TestingConfig(Config):
    TESTING = True
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    WTF_CSRF_ENABLED = True
    SCAN_WRITE_DELAY = 0.0  # tests count scans right after the request; tests/test_scan_log.py covers the delay

    @classmethod
    def load_secret(cls) -> None:
        cls.SECRET_KEY = secrets.token_hex(32)
        cls.STAMP_KEY = os.environ.get("STAMP_KEY") or "test-stamp-key"


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "1") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    STRICT_TRANSPORT_SECURITY = os.environ.get("STRICT_TRANSPORT_SECURITY", "max-age=31536000; includeSubDomains")

    @classmethod
    def load_secret(cls) -> None:
        key = os.environ.get("SECRET_KEY", "")
        if len(key) < MIN_SECRET_LENGTH or key.lower() in {"changeme", "secret", "dev"}:
            raise RuntimeError(
                "Production needs SECRET_KEY in the environment: a random value of at least "
                f"{MIN_SECRET_LENGTH} characters (python -c 'import secrets; print(secrets.token_hex(32))')."
            )
        cls.SECRET_KEY = key
        cls.STAMP_KEY = instance_secret("STAMP_KEY", "stamp_key")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    return CONFIGS[os.environ.get("APP_CONFIG", "development")]
