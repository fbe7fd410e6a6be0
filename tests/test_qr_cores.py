"""The QR encoding pool is sized by the cores a process may use, not by the machine's count."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PINNED_ENCODER = """
import os
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
from labels.qr import Encoder
with Encoder() as encoder:
    print(encoder.workers, encoder._pool is None)
"""


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs a Linux process allowed on at least two cores")
def test_a_process_pinned_to_one_core_encodes_without_a_pool():
    """A worker pinned to one core (taskset, a container's cpuset) encodes in its own process instead of
    starting one pool process per core of the machine, which would only compete for that core."""
    result = subprocess.run([sys.executable, "-c", PINNED_ENCODER], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["1", "True"]

