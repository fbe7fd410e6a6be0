"""Celery tasks. Each is a thin shell around a service function, which owns the rules and the commit."""
