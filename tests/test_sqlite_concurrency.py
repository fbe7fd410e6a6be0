"""Two processes writing to one SQLite file at once queue for the lock instead of failing."""
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from app.models import DiaryEvent
from app.services import batches, products
from tests.jobs import worker_environment

WRITER = """
import sys
from datetime import date
from app import create_app
from app.extensions import db
from app.models import Cooperative
from app.services import batches
app = create_app()
with app.app_context():
    coop_id, batch_id, name = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    for i in range(200):
        coop = db.session.get(Cooperative, coop_id)          # read …
        coop.description = f"{name} {i}"                      # … then write, in one transaction
        db.session.commit()
        batches.add_event(coop_id, batch_id, {"event_date": date(2026, 6, 1), "kind": "other", "description": f"{name}-{i}"}, None)
print("ok")
"""


def test_two_writer_processes_never_see_database_is_locked(app, db, coop_a):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite locking")
    product = products.create_product(coop_a.id, {"name": "Vải", "category": "fruit"}, None)
    batch = batches.create_batch(coop_a.id, product.id, {"lot_code": "L1"}, None)
    coop_id, batch_id = coop_a.id, batch.id
    db.session.remove()
    env = worker_environment(app)
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(coop_id), str(batch_id), name], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name in ("a", "b")
    ]
    results = [w.communicate(timeout=120) for w in writers]
    for (out, err), writer in zip(results, writers):
        assert writer.returncode == 0 and out.strip() == "ok", err[-2000:]
        assert "database is locked" not in err
    assert db.session.scalar(select(func.count()).select_from(DiaryEvent)) == 400
