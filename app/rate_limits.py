"""Rate limits on the few views that need them, counted by the `limits` library in the application's
database (app/rate_limit_storage.py), so that every worker counts against the same limit.

The limits are checked only where declared: the scan page is the hottest path and pays nothing for them.
"""
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
