"""Smoke test of the packaged executable (`make package-test`): it runs, learns, saves,
and bad surroundings give one readable line, never a traceback.

    .venv/bin/python .ci/package_smoke.py dist/streamer-studio/streamer-studio
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TIMEOUT_S = 600
EXPORTS = (".vtt", ".otio", ".eaf")  # the bundled libraries: webvtt-py, OTIO, pympi-ling


def run(exe: Path, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    started = time.monotonic()
    done = subprocess.run([str(exe), *args], env=env, capture_output=True, text=True,
                          timeout=TIMEOUT_S, check=False)
    print(f"  {' '.join(args)}: exit {done.returncode} in {time.monotonic() - started:.1f} s")
    return done


def check(done: subprocess.CompletedProcess, code: int, expect: str) -> list[str]:
    """Problems with one run: the wrong exit code, a missing text, a traceback."""
    problems = []
    output = done.stdout + done.stderr
    if done.returncode != code:
        problems.append(f"exit code {done.returncode}, expected {code}")
    if expect not in output:
        problems.append(f"{expect!r} not in the output")
    if "Traceback" in output:
        problems.append("a traceback")
    if problems:
        problems.append(f"output:\n{output[-3000:]}")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    exe = Path(argv[0]).resolve()
    if not os.access(exe, os.X_OK):
        print(f"package smoke test: {exe} is not an executable (run `make package`)",
              file=sys.stderr)
        return 2
    base = {k: v for k, v in os.environ.items()
            if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    offscreen = {**base, "QT_QPA_PLATFORM": "offscreen"}
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="streamer-package-smoke-") as tmp:
        folder = Path(tmp)
        shot = folder / "self-test.png"
        not_a_folder = folder / "a-file"
        not_a_folder.write_text("not a folder\n")
        cases = [
            ("self-test", offscreen, ["--self-test", "--screenshot", str(shot)], 0,
             "self-test passed"),
            ("CLI", base, ["segment", "synthetic:1:4", "--max-steps", "3", "--quiet",
                           "--set", "feature_dim=16", "--out", str(folder / "out.json"),
                           "--save-checkpoint", str(folder / "model.pt")], 0, ""),
            *[(f"export {suffix}", base, ["export", str(folder / "out.json"),
                                          str(folder / f"events{suffix}")], 0, "")
              for suffix in EXPORTS],
            ("no display", base, [], 2, "no display found"),
            ("display without a server", {**base, "DISPLAY": ":5999"}, [], 2,
             "cannot open the display :5999"),
            ("missing camera", base, ["segment", "camera:97", "--quiet"], 2,
             "Camera 97 could not be opened"),
            ("checkpoint folder that cannot exist", base,
             ["segment", "synthetic:1:4", "--quiet",
              "--save-checkpoint", str(not_a_folder / "sub" / "model.pt")], 2,
             "is a file, not a folder"),
        ]
        for name, env, args, code, expect in cases:
            print(f"{name}:")
            problems = check(run(exe, args, env), code, expect)
            failures += [f"{name}: {p}" for p in problems]
        for made in (shot, folder / "out.json", folder / "model.pt",
                     *(folder / f"events{suffix}" for suffix in EXPORTS)):
            if not (made.is_file() and made.stat().st_size > 0):
                failures.append(f"{made.name} was not written")
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    print(f"package smoke test: {'FAILED' if failures else 'passed'} ({exe})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
