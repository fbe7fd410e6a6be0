"""OCOP Trace: traceability and QR stamps for Vietnamese OCOP cooperatives."""
from pathlib import Path

from flask import Flask

from app import database  # noqa: F401  (registers the SQLite engine settings)
from app import rate_limits
from app.config import ROOT, Config, config_from_env
from app.extensions import babel, csrf, db, login_manager, migrate


def create_app(config: type[Config] | None = None) -> Flask:
    config = config or config_from_env()
    app = Flask(
        __name__,
        instance_path=config.INSTANCE_PATH,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    register_config(app, config)
    register_extensions(app)
    register_jobs(app)
    register_blueprints(app)
    register_api(app)
    register_template_helpers(app)
    register_errorhandlers(app)
    register_form_drafts(app)
    register_security_headers(app)
    register_commands(app)
    register_fast_paths(app)
    register_transport_security(app)
    register_reverse_proxy(app)
    return app


def register_config(app: Flask, config: type[Config]) -> None:
    config.load_secret()
    app.config.from_object(config)
    # A server can drop idle connections, so PostgreSQL's are checked before use; an SQLite file cannot.
    # Last-in-first-out keeps reusing the connection whose page cache is warm.
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    pooled = {"pool_pre_ping": url.startswith("postgresql"), "pool_use_lifo": True}
    if url not in ("sqlite://", "sqlite:///:memory:"):  # an in-memory database has a single connection
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**app.config["SQLALCHEMY_ENGINE_OPTIONS"], **pooled}
    Path(app.config["UPLOAD_FOLDER"]).mkdir(parents=True, exist_ok=True)


def register_extensions(app: Flask) -> None:
    from app import models  # noqa: F401  (tables must be known to the metadata)
    from app.i18n import select_locale
    from app.services import audit  # noqa: F401  (registers the audit trail's session hook)
    from app.services.accounts import load_user
    from app.sessions import SessionInterface

    app.session_interface = SessionInterface()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    rate_limits.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = None
    login_manager.session_protection = "strong"


def register_jobs(app: Flask) -> None:
    from app import jobs

    jobs.init_app(app)


def register_blueprints(app: Flask) -> None:
    from app.admin import bp as admin_bp
    from app.api import bp as api_bp
    from app.auth import bp as auth_bp
    from app.commune import bp as commune_bp
    from app.coop import bp as coop_bp
    from app.public import bp as public_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(coop_bp, url_prefix="/coop")
    app.register_blueprint(commune_bp, url_prefix="/commune")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(api_bp, url_prefix="/api")


def register_api(app: Flask) -> None:
    """JSON API v1 (flask-smorest), its OpenAPI document and docs page."""
    from app.api import v1

    v1.register(app)


def register_template_helpers(app: Flask) -> None:
    from app import i18n
    from app.services import gtin
    from app.vocabulary import sheet_name, value_words

    app.jinja_env.filters["vndate"] = i18n.format_day
    app.jinja_env.filters["vndatetime"] = i18n.format_moment
    app.jinja_env.filters["quantity"] = i18n.format_quantity
    app.jinja_env.filters["file_size"] = i18n.format_file_size
    app.jinja_env.filters["gtin"] = gtin.as_entered
    app.jinja_env.filters["sheet_name"] = sheet_name
    app.jinja_env.filters["words"] = value_words
    app.context_processor(i18n.template_globals)


def register_form_drafts(app: Flask) -> None:
    """Forms keep what was typed until the server accepts them (app/form_drafts.py, static/app.js)."""
    from app import form_drafts

    form_drafts.register(app)
    login_manager.unauthorized_handler(form_drafts.sign_in_again)


def register_security_headers(app: Flask) -> None:
    from app.security import add_security_headers

    app.after_request(add_security_headers)


def register_errorhandlers(app: Flask) -> None:
    from app.errors import register

    register(app)


def register_fast_paths(app: Flask) -> None:
    from app.scan.fast_path import ScanFastPath

    app.wsgi_app = ScanFastPath(app, app.wsgi_app)


def register_transport_security(app: Flask) -> None:
    """HSTS on every response (production), as a WSGI layer so that the scan fast path carries it too."""
    from app.security import StrictTransportSecurity

    if app.config["STRICT_TRANSPORT_SECURITY"]:
        app.wsgi_app = StrictTransportSecurity(app.wsgi_app, app.config["STRICT_TRANSPORT_SECURITY"])


def register_reverse_proxy(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies, the client's address, scheme and host come from their
    X-Forwarded-* headers. The outermost layer, so that the scan fast path, the rate limits and the scan
    log all see the same client address; with 0 proxies the headers are ignored, as any client can send them."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)


def register_commands(app: Flask) -> None:
    from app.cli import register

    register(app)
