"""Peak memory of a worker storing an uploaded photo: `.venv/bin/python bench/uploads.py`.

Each sample is stored by a fresh Python process that first imports the app and stores a small photo (its
peak RSS then is the baseline), then stores the sample; the figures are the process's peak RSS
(`ru_maxrss`) before and after, so they include everything a real worker would hold.

    .venv/bin/python bench/uploads.py                 # make the samples, measure each, print the table
    .venv/bin/python bench/uploads.py samples DIR     # only write the sample files into DIR
    .venv/bin/python bench/uploads.py measure FILE SMALL  # store SMALL then FILE in a fresh process; JSON

Figures on the 2-core development machine (Pillow 13, PHOTO_MAX_PIXELS 24 MP), peak RSS in MB:

    sample      file     baseline  peak  x base  outcome
    small       0.06 MB  104       104   1.00    stored (1600x1200 JPEG)
    jpeg-12mp   0.26 MB  105       105   1.00    stored (decoded at 1/2 scale)
    jpeg-24mp   0.49 MB  104       104   1.00    stored (decoded at 1/4 scale)
    png-24mp    0.08 MB  104       207   1.98    stored (PNG has no reduced decoding: one full-size copy)
    png-40mp    0.13 MB  104       104   1.00    refused before decoding ("Ảnh quá lớn: tối đa 24 megapixel…")

Before the header check and reduced decoding (PHOTO_MAX_PIXELS 40 MP) the same samples took 189, 298,
298 and 412 MB (the 40-megapixel PNG was accepted).
"""
import io
import json
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# name: (width, height, format)
SAMPLES = {
    "jpeg-12mp": (4000, 3000, "JPEG"),
    "jpeg-24mp": (6000, 4000, "JPEG"),
    "png-24mp": (6000, 4000, "PNG"),
    "png-40mp": (8000, 5000, "PNG"),
}


def png_bytes(width: int, height: int) -> bytes:
    """An RGB PNG of one colour, written row by row: a 40-megapixel one is some 100 KB on disk and never
    exists decoded here (its whole point is that only the server would decode it)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes((90, 160, 60)) * width  # filter type 0, then the row's pixels
    packer = zlib.compressobj(9)
    compressed = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", compressed) + chunk(b"IEND", b"")


def jpeg_bytes(width: int, height: int) -> bytes:
    """A camera-sized JPEG with some detail in it (a gradient), as a phone would send."""
    from PIL import Image

    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def write_samples(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, (width, height, kind) in {"small": (1600, 1200, "JPEG"), **SAMPLES}.items():
        path = folder / f"{name}.{kind.lower()}"
        if not path.exists():
            path.write_bytes(png_bytes(width, height) if kind == "PNG" else jpeg_bytes(width, height))
        paths[name] = path
    return paths


def peak_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux


def measure_here(path: Path, small: Path) -> dict:
    """Store `small` (the baseline), then `path`, in this process; what it took."""
    from app import create_app
    from app.services import photos
    from app.services.errors import RuleViolation

    app = create_app()
    with app.app_context():
        photos.save_photo(io.BytesIO(small.read_bytes()))
        baseline = peak_rss_kb()
        data = path.read_bytes()
        started = time.perf_counter()
        try:
            photos.save_photo(io.BytesIO(data))
            outcome = "stored"
        except RuleViolation as refused:
            outcome = f"refused: {refused.message}"
        seconds = time.perf_counter() - started
    return {"file_bytes": len(data), "baseline_kb": baseline, "peak_kb": peak_rss_kb(), "seconds": seconds, "outcome": outcome}


def in_a_fork(work) -> int:
    """Run work in a forked child and return its exit code. Linux carries the peak RSS of whoever started
    this process across exec (a test runner's, say), but a fork starts the count again from this small
    process."""
    pid = os.fork()
    if pid == 0:
        try:
            work()
            code = 0
        except BaseException:
            traceback.print_exc()
            code = 1
        os._exit(code)
    _pid, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def measure(path: Path, small: Path | None = None) -> dict:
    """Run measure_here in a fresh Python process (its own instance folder, the testing configuration)."""
    small = small or path.with_name("small.jpeg")
    with tempfile.TemporaryDirectory() as instance:
        env = {**os.environ, "APP_CONFIG": "testing", "INSTANCE_PATH": instance, "PYTHONPATH": str(ROOT)}
        result = subprocess.run(
            [sys.executable, __file__, "measure", str(path), str(small)],
            env=env, cwd=ROOT, capture_output=True, text=True, check=True, timeout=300,
        )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> None:
    if argv[:1] == ["samples"]:
        for name, path in write_samples(Path(argv[1])).items():
            print(name, path)
        return
    if argv[:1] == ["measure"]:
        sys.exit(in_a_fork(lambda: print(json.dumps(measure_here(Path(argv[1]), Path(argv[2]))), flush=True)))
    with tempfile.TemporaryDirectory() as folder:
        paths = write_samples(Path(folder))
        print(f"{'sample':12} {'file':>9} {'baseline':>9} {'peak':>9} {'x base':>7} {'time':>7}  outcome")
        for name in ("small", *SAMPLES):
            figures = measure(paths[name], paths["small"])
            print(
                f"{name:12} {figures['file_bytes'] / 1e6:7.2f}MB {figures['baseline_kb'] / 1024:7.0f}MB "
                f"{figures['peak_kb'] / 1024:7.0f}MB {figures['peak_kb'] / figures['baseline_kb']:7.2f} "
                f"{figures['seconds']:6.2f}s  {figures['outcome']}"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
