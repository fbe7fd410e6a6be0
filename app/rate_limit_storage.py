"""Rate-limit counters kept in the application's own database, so that every gunicorn worker (and every
host of a PostgreSQL deployment) counts against the same limits, with no extra server to run.

Registered with the `limits` library under the schemes `db+<SQLAlchemy URL>`, for example
`db+sqlite:////srv/ocop/instance/ocop.db` or `db+postgresql+psycopg://user@host/ocop`. Counters whose window
has ended are deleted by a periodic job (housekeeping.purge_rate_limit_counters), never by a request.
"""
import time

from limits.storage import Storage
from sqlalchemy import case, create_engine, delete, select
from sqlalchemy.exc import SQLAlchemyError

from app.database import insert_for, single_statement_connection
from app.models.rate_limits import rate_limit_counters as counters



class DatabaseStorage(Storage):
    STORAGE_SCHEME = ["db+sqlite", "db+postgresql", "db+postgresql+psycopg"]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions, **options)
        self.engine = create_engine(uri.removeprefix("db+"), pool_pre_ping=True)
        self._insert = insert_for(self.engine)

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        window_over = counters.c.expires_at <= now
        # One statement: a new window starts when the stored one has run out, else the count grows.
        upsert = self._insert(counters).values(key=key, hits=amount, expires_at=now + expiry).on_conflict_do_update(
            index_elements=[counters.c.key],
            set_={
                "hits": case((window_over, amount), else_=counters.c.hits + amount),
                "expires_at": case((window_over, now + expiry), else_=counters.c.expires_at),
            },
        ).returning(counters.c.hits)
        with self._connect() as conn:
            hits = conn.execute(upsert).scalar_one()
            conn.commit()
        return hits

    def _connect(self):
        # A counter never waits on, or holds, the write lock of the request it counts.
        return single_statement_connection(self.engine)

    def get(self, key: str) -> int:
        with self._connect() as conn:
            hits = conn.execute(select(counters.c.hits).where(counters.c.key == key, counters.c.expires_at > time.time())).scalar()
        return hits or 0

    def get_expiry(self, key: str) -> float:
        with self._connect() as conn:
            expiry = conn.execute(select(counters.c.expires_at).where(counters.c.key == key)).scalar()
        return expiry if expiry and expiry > time.time() else time.time()

    def check(self) -> bool:
        try:
            with self._connect() as conn:
                conn.execute(select(1))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self._connect() as conn:
            deleted = conn.execute(delete(counters)).rowcount
            conn.commit()
        return deleted

    def clear(self, key: str) -> None:
        with self._connect() as conn:
            conn.execute(delete(counters).where(counters.c.key == key))
            conn.commit()

