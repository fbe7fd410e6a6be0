"""Fill a benchmark database: the demo data plus stamps up to --total, and write some valid codes to a file.

Run as `python -m bench.seed_stamps` from the project root (bench/labels.py would shadow the labels package).
"""
import argparse
import random
import secrets

from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import Batch, Stamp
from app.services import codes, demo, label_runs, minting

parser = argparse.ArgumentParser()
parser.add_argument("--total", type=int, required=True)
parser.add_argument("--codes", required=True, help="file to write valid scan paths to")
parser.add_argument("--paths", type=int, default=10_000, help="how many (random stamps across all runs)")
args = parser.parse_args()

app = create_app()
with app.app_context():
    demo.load_demo()
    batch = db.session.get(Batch, 1)
    batch.best_before = None
    db.session.commit()
    have = db.session.scalar(select(func.count()).select_from(Stamp))
    while have < args.total:
        count = min(100_000, args.total - have)
        run, _ = label_runs.create_run(batch.product.cooperative_id, product_id=batch.product_id, batch_id=batch.id, count=count,
                                       template="a4-65", options={}, request_token=secrets.token_hex(8), actor_id=None)
        minting.mint(run.id)
        have += count
    key = minting.stamp_key()
    runs = [run for run in label_runs.list_runs(batch.product.cooperative_id) if run.batch_id == batch.id]
    chosen = random.Random(42)
    with open(args.codes, "w") as out:
        for _ in range(args.paths):
            run = chosen.choice(runs)
            out.write(f"/Q/{codes.derive_code(key, run.id, chosen.randint(1, run.count))}\n")
    print(f"{have:,} stamps")
