"""Rate-limit counters shared by every worker (see app/rate_limit_storage.py). Not business data."""
from sqlalchemy import Column, Float, Integer, String, Table

from app.extensions import db

rate_limit_counters = Table(
    "rate_limit_counters", db.metadata,
    Column("key", String(255), primary_key=True),
    Column("hits", Integer, nullable=False),
    Column("expires_at", Float, nullable=False),
)
