"""Rate limits on the few views that need them, counted by the `limits` library in the application's
database (app/rate_limit_storage.py), so that every worker counts against the same limit.

The limits are checked only where declared: the scan page is the hottest path and pays nothing for them.
"""
import hashlib
import time
from functools import wraps

from flask import Flask, abort, current_app, request
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from app import rate_limit_storage  # noqa: F401  (registers the db+ storage schemes)


def init_app(app: Flask) -> None:
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = "db+" + app.config["SQLALCHEMY_DATABASE_URI"]
    app.extensions["rate_limiter"] = FixedWindowRateLimiter(storage_from_string(app.config["RATELIMIT_STORAGE_URI"]))


def allowed(scope: str, limits_setting: str) -> bool:
    """Count one hit of this client against every limit in the named setting ("20 per minute;200 per day")."""
    limiter = current_app.extensions["rate_limiter"]
    client = request.remote_addr or ""
    return all([limiter.hit(item, scope, client) for item in parse_many(current_app.config[limits_setting])])


class KeyedLimit:
    """A limit on something other than the client's address (say, failed sign-ins of one account, whatever
    address they come from), in the same shared storage. The key is stored only as a digest."""

    def __init__(self, scope: str, limits_setting: str):
        self.scope, self.limits_setting = scope, limits_setting

    def _items(self):
        return parse_many(current_app.config[self.limits_setting])

    @staticmethod
    def _key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()[:32]

    def used_up(self, key: str) -> bool:
        """True while the key has no hit left; counts nothing."""
        limiter = current_app.extensions["rate_limiter"]
        return not all(limiter.test(item, self.scope, self._key(key)) for item in self._items())

    def hit(self, key: str) -> None:
        limiter = current_app.extensions["rate_limiter"]
        for item in self._items():
            limiter.hit(item, self.scope, self._key(key))

    def clear(self, key: str) -> None:
        limiter = current_app.extensions["rate_limiter"]
        for item in self._items():
            limiter.clear(item, self.scope, self._key(key))

    def seconds_left(self, key: str) -> int:
        """How long until the key may try again (0 when it may now). A fixed window always ends."""
        limiter = current_app.extensions["rate_limiter"]
        waits = [limiter.get_window_stats(item, self.scope, self._key(key)) for item in self._items()]
        return max((int(w.reset_time - time.time()) + 1 for w in waits if w.remaining == 0), default=0)


def rate_limited(limits_setting: str, methods: tuple[str, ...] = ("POST",)):
    """Refuse a view with 429 once this client has used up the limits in the named setting."""
    def decorator(view):
        @wraps(view)
        def limited(*args, **kwargs):
            if request.method in methods and not allowed(view.__name__, limits_setting):
                abort(429)
            return view(*args, **kwargs)
        return limited
    return decorator
