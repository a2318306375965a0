"""benchmarks/gpu_check.py on a machine without CUDA: it says so and succeeds, and its
plumbing (a part per process, a time limit per part, the figures table) works."""

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "gpu_check.py"


def _gpu_check():
    if "gpu_check" not in sys.modules:  # dataclasses look their module up there
        spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
        module = importlib.util.module_from_spec(spec)
        sys.modules["gpu_check"] = module
        spec.loader.exec_module(module)
    return sys.modules["gpu_check"]


def test_without_cuda_it_says_no_cuda_device_and_exits_0():
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}  # hides a GPU, if this machine has one
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(SCRIPT)], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "no CUDA device" in done.stdout
    assert time.monotonic() - started < 60  # no part was started


def test_a_hanging_part_is_stopped_at_its_limit_and_reported():
    gpu_check = _gpu_check()
    hang = gpu_check.Part("hang", "sleeps", 1, ["-c", "import time; time.sleep(60)"])
    started = time.monotonic()
    outcome = gpu_check.run_part(hang, timeout_s=1)
    assert time.monotonic() - started < 30
    assert outcome.status.startswith("TIMED OUT")
    assert "| hang | TIMED OUT" in gpu_check.table([outcome])


def test_a_part_reports_its_figures_and_a_crash_is_a_failure():
    gpu_check = _gpu_check()
    result = '{"status": "ok", "rows": [{"label": "x", "steps_per_s": 123.4, "peak_gpu_mb": 56}]}'
    good = gpu_check.Part("good", "prints", 30,
                          ["-c", f"print('noise'); print({gpu_check.RESULT_PREFIX + result!r})"])
    crash = gpu_check.Part("crash", "raises", 30, ["-c", "raise SystemExit(3)"])
    outcomes = [gpu_check.run_part(good, 30), gpu_check.run_part(crash, 30)]
    assert outcomes[0].status == "ok"
    assert outcomes[1].status == "FAILED (exit 3)"
    text = gpu_check.table(outcomes)
    assert "| good | ok |" in text and "| 123.4 | 56 |" in text
    assert "| crash | FAILED (exit 3) |" in text


def test_learning_speed_figures_become_one_row_per_path():
    gpu_check = _gpu_check()
    payload = {"preset": "paper", "device": "cuda", "results": {
        "fast": {"steps_per_s": 120.0, "median_step_s": 0.008, "peak_gpu_mb": 3000.0,
                 "boundaries": {"0": [0, 1.5]}},
        "reference": {"steps_per_s": 20.0, "median_step_s": 0.05, "peak_gpu_mb": 4000.0,
                      "boundaries": {"0": [0, 1.5]}}}}
    line = gpu_check.SPEED_PREFIX + json.dumps(payload)
    rows = gpu_check.speed_rows(gpu_check.last_json(f"text\n{line}\n", gpu_check.SPEED_PREFIX))
    assert [r["steps_per_s"] for r in rows] == [120.0, 20.0]
    assert "same boundaries as reference: True" in rows[0]["note"]


def test_an_unknown_part_is_refused():
    gpu_check = _gpu_check()
    args = gpu_check.argparse.Namespace(device="cpu", quick=True, steps=4,
                                        parts="paper,nonsense")
    with pytest.raises(SystemExit, match="unknown part"):
        gpu_check.plan(args)


def test_make_gpu_check_runs_the_script():
    done = subprocess.run(["make", "-n", "gpu-check"], cwd=ROOT, text=True,
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "benchmarks/gpu_check.py" in done.stdout
