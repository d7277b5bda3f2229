"""The seeded rig fuzzer (``tests/engine/formats/rig_fuzz.py``) as a bounded test: 2,500 mutated files.

Runs in a child process so that a hang fails the test (the file it left in ``--progress`` names the
case) and the peak RSS is the fuzzer's own. Asserts: only ``RigFormatError`` escapes
``load_rig``, no case takes longer than :data:`CASE_LIMIT_S`, peak memory stays under
:data:`PEAK_RSS_MB`.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

CASES = 2500
CASE_LIMIT_S = 5.0  # typical cases take 2-40 ms; the slowest of 12,000 took 2.2 s on a 2-core machine at load 10
PEAK_RSS_MB = 1024
RUN_TIMEOUT_S = 240  # about 20 s on an idle 2-core machine


@pytest.mark.slow
def test_mutated_rigs_raise_only_rig_format_error_quickly_in_bounded_memory(tmp_path):
    progress = tmp_path / "progress.txt"
    cmd = [sys.executable, "-W", "ignore", "-m", "tests.engine.formats.rig_fuzz", "--cases", str(CASES), "--seed", "0", "--progress", str(progress)]
    try:
        proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the fuzzer hung on {progress.read_text() if progress.exists() else 'its start'}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["cases"] == CASES
    assert report["unexpected"] == [], report["unexpected"][:5]
    assert report["slowest_case_s"] < CASE_LIMIT_S, report
    assert report["peak_rss_mb"] < PEAK_RSS_MB, report
    outcomes = report["outcomes"]
    assert outcomes["loaded"] > 100 and outcomes["RigFormatError"] > 1000  # the mutations reach both ends


def test_fuzzer_is_seeded():
    from tests.engine.formats import rig_fuzz

    seeds = rig_fuzz.seed_files()
    a = [rig_fuzz.mutate(n, d, random.Random(3)) for n, d in seeds]
    b = [rig_fuzz.mutate(n, d, random.Random(3)) for n, d in seeds]
    assert a == b and len(seeds) >= 10
