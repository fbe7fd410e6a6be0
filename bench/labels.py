"""Label runs: the real path (minting into the database + rendering) against a naive baseline.

    .venv/bin/python bench/labels.py [--count 40000] [--baseline 4000]

Each measurement runs in a fresh process so that its peak RSS is its own. The naive baseline is the
obvious implementation: python-qrcode → PIL image → ReportLab drawImage, label by label; it is timed on
--baseline labels and scaled to --count.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

REAL = """
import json, resource, secrets, sys, time
from app import create_app
from app.extensions import db
from app.models import Batch, LabelRun
from app.services import demo, label_runs, run_processing, run_rendering
app = create_app()
with app.app_context():
    demo.load_demo()
    batch = db.session.get(Batch, 1)
    count = int(sys.argv[1])
    run, _ = label_runs.create_run(batch.product.cooperative_id, product_id=batch.product_id, batch_id=batch.id,
        count=count, template="a4-65", options={}, request_token=secrets.token_hex(8), actor_id=None)
    run_id = run.id
    db.session.commit()
    started = time.perf_counter()
    run_processing.process(run_id)
    seconds = time.perf_counter() - started
    size = db.session.get(LabelRun, run_id).pdf_bytes
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"seconds": seconds, "bytes": size, "peak_rss_mb": peak / 1024}))
"""

NAIVE = """
import io, json, resource, sys, time
import qrcode
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas
from app.services.codes import derive_code, group
count = int(sys.argv[1])
mm = 72 / 25.4
started = time.perf_counter()
out = io.BytesIO()
canvas = Canvas(out, pagesize=(210 * mm, 297 * mm))
for i in range(count):
    code = derive_code(b"k" * 32, 1, i + 1)
    image = qrcode.make(f"HTTPS://OCOP.EXAMPLE.VN/Q/{code}").get_image()
    cell = i % 65
    x, y = 4.67 + (cell % 5) * 40.64, 297 - 10.7 - (cell // 5 + 1) * 21.2
    canvas.drawImage(ImageReader(image), x * mm, y * mm, 19 * mm, 19 * mm)
    canvas.setFont("Helvetica", 6)
    canvas.drawString((x + 20) * mm, (y + 2) * mm, group(code))
    if cell == 64:
        canvas.showPage()
canvas.save()
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "bytes": len(out.getvalue()), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

ENGINE_ONLY = """
import io, json, resource, sys, time
from labels import BUILTIN_SPECS, Label, render_pdf
from app.services.codes import derive_code, group
count = int(sys.argv[1])
def records():
    for i in range(count):
        code = derive_code(b"k" * 32, 1, i + 1)
        yield Label(f"HTTPS://OCOP.EXAMPLE.VN/Q/{code}", group(code), "Vải thiều Lục Ngạn", "Hợp tác xã Hồng Xuân", "VT-2026-06-A", "11/06/2026", "25/06/2026", 4, serial=i + 1)
class Sink(io.RawIOBase):
    size = 0
    def writable(self): return True
    def write(self, b): self.size += len(b); return len(b)
sink = Sink()
started = time.perf_counter()
render_pdf(records(), BUILTIN_SPECS["a4-65"], sink)
seconds = time.perf_counter() - started
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"seconds": seconds, "bytes": sink.size, "peak_rss_mb": peak / 1024}))
"""


def measure(script: str, count: int, env: dict) -> dict:
    result = subprocess.run([sys.executable, "-c", script, str(count)], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode:
        sys.exit(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


def fresh_database_env(folder: str) -> dict:
    env = {**os.environ, "INSTANCE_PATH": folder, "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    return env


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=40_000)
    parser.add_argument("--baseline", type=int, default=4_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = fresh_database_env(folder)
        real = measure(REAL, args.count, env)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    naive = measure(NAIVE, args.baseline, env)
    scale = args.count / args.baseline
    naive_scaled = naive["seconds"] * scale
    print(f"{'':34} {'wall s':>8} {'labels/s':>10} {'peak RSS MB':>12} {'PDF MB':>8}")
    print(f"{'real path (mint + render), ' + format(args.count, ','):34} {real['seconds']:8.2f} {args.count / real['seconds']:10,.0f} {real['peak_rss_mb']:12.0f} {real['bytes'] / 1e6:8.2f}")
    print(f"{'naive, ' + format(args.baseline, ',') + ' × ' + format(scale, 'g'):34} {naive_scaled:8.1f} {args.baseline / naive['seconds']:10,.0f} {naive['peak_rss_mb']:12.0f} {naive['bytes'] * scale / 1e6:8.2f}")
    print(f"speed-up: {naive_scaled / real['seconds']:.1f}×")
    small, large = measure(ENGINE_ONLY, 10_000, env), measure(ENGINE_ONLY, 100_000, env)
    print(f"engine only, peak RSS: 10,000 labels {small['peak_rss_mb']:.0f} MB, 100,000 labels {large['peak_rss_mb']:.0f} MB "
          f"({large['peak_rss_mb'] / small['peak_rss_mb'] - 1:+.0%}); 100,000 in {large['seconds']:.1f} s, {large['bytes'] / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
