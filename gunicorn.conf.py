"""Gunicorn settings shared by `make run`, the Docker image and the benchmarks."""
import os

bind = os.environ.get("BIND", "127.0.0.1:5000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = 60
accesslog = os.environ.get("ACCESS_LOG", "-") or None  # ACCESS_LOG= (empty) turns it off
# gunicorn uses this only for the request's scheme. Behind a reverse proxy the client's address, scheme and
# host are decided by the application (TRUSTED_PROXIES, werkzeug's ProxyFix): README, "Behind nginx".
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
