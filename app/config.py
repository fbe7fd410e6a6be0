"""Configuration classes, read from the environment."""
import os
import secrets
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


def instance_secret_key() -> str:
    """Return SECRET_KEY from the environment, else one generated once into instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = INSTANCE / "secret_key"
    INSTANCE.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: when two workers start together only one writes, the other reads its key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32))
    return path.read_text().strip()


class Config:
    INSTANCE_PATH = str(INSTANCE)
    SQLALCHEMY_DATABASE_URI = database_url()
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    UPLOAD_FOLDER = str(INSTANCE / "uploads")
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    PHOTO_MAX_PIXELS = 40_000_000
    PHOTO_DISPLAY_SIZE = 1280
    PHOTO_THUMB_SIZE = 320
    LANGUAGES = ("vi", "en")
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    SIGN_IN_LIMIT = os.environ.get("SIGN_IN_LIMIT", "10 per minute;50 per hour")

    @classmethod
    def load_secret(cls) -> None:
        cls.SECRET_KEY = instance_secret_key()


class DevelopmentConfig(Config):
    pass


class TestingConfig(Config):
    TESTING = True
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    WTF_CSRF_ENABLED = True

    @classmethod
    def load_secret(cls) -> None:
        cls.SECRET_KEY = secrets.token_hex(32)


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "1") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE

    @classmethod
    def load_secret(cls) -> None:
        key = os.environ.get("SECRET_KEY", "")
        if len(key) < MIN_SECRET_LENGTH or key.lower() in {"changeme", "secret", "dev"}:
            raise RuntimeError(
                "Production needs SECRET_KEY in the environment: a random value of at least "
                f"{MIN_SECRET_LENGTH} characters (python -c 'import secrets; print(secrets.token_hex(32))')."
            )
        cls.SECRET_KEY = key


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    return CONFIGS[os.environ.get("APP_CONFIG", "development")]
