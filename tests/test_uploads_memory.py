"""A worker's memory stays bounded whatever is uploaded, measured for real: each sample is stored by a fresh
Python process (bench/uploads.py) whose peak RSS after importing the app and storing a small photo is the
baseline. Bounds are ratios to that baseline, or to the decoded size of the image itself, never megabytes:
machines differ."""
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BYTES_PER_PIXEL = 4  # how Pillow holds an RGB or RGBA pixel once decoded

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in kilobytes on Linux only")


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_uploads", ROOT / "bench" / "uploads.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return load_bench()


@pytest.fixture(scope="module")
def samples(bench, tmp_path_factory):
    return bench.write_samples(tmp_path_factory.mktemp("uploads"))


def decoded_kb(bench, name: str) -> float:
    width, height, _format = bench.SAMPLES[name]
    return width * height * BYTES_PER_PIXEL / 1024


def test_a_40_megapixel_png_is_refused_before_it_is_decoded(bench, samples):
    assert samples["png-40mp"].stat().st_size < 200_000  # small on the wire, 160 MB once decoded
    figures = bench.measure(samples["png-40mp"])
    assert figures["outcome"].startswith("refused: Ảnh quá lớn: tối đa 24 megapixel")
    assert figures["peak_kb"] / figures["baseline_kb"] < 1.10


def test_a_24_megapixel_jpeg_is_decoded_at_a_reduced_scale(bench, samples):
    figures = bench.measure(samples["jpeg-24mp"])
    assert figures["outcome"] == "stored"
    assert figures["peak_kb"] / figures["baseline_kb"] < 1.25
    assert figures["peak_kb"] - figures["baseline_kb"] < 0.25 * decoded_kb(bench, "jpeg-24mp")


def test_the_largest_accepted_png_costs_at_most_one_decoded_copy(bench, samples):
    """PNG has no reduced decoding: the worst accepted upload holds its full-size pixels once, not the
    several converted copies it used to."""
    figures = bench.measure(samples["png-24mp"])
    assert figures["outcome"] == "stored"
    assert figures["peak_kb"] - figures["baseline_kb"] < 1.5 * decoded_kb(bench, "png-24mp")
