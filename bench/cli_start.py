"""Start-up of the command line: `goodwill --help` against `python -c pass` and `pip --version`.

`goodwill --help` loads every command's module (it lists them all); a command loads its own
alone, so `goodwill clv fit --help` is timed beside it: what any one command pays to start.

Each command runs in a fresh process N times (after one untimed warm-up run, so every side reads
from a warm file cache); the median wall time is reported with its ratio to each peer. The peers
run on the same Python: `python -c pass` is the floor any Python command pays, `pip --version` a
familiar command line that answers at once. `goodwill` is the console script installed next to
this interpreter (or `python -m goodwill` where there is none).

Run: python -m bench.cli_start [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path


def goodwill_command() -> list[str]:
    script = Path(sys.executable).parent / "goodwill"
    return [str(script)] if script.exists() else [sys.executable, "-m", "goodwill"]


def pip_command() -> list[str] | None:
    """pip on this interpreter, else on the one its virtual environment was made from (uv makes
    environments without pip)."""
    for python in (sys.executable, getattr(sys, "_base_executable", sys.executable)):
        command = [python, "-m", "pip", "--version"]
        if subprocess.run(command, capture_output=True, check=False).returncode == 0:
            return command
    return None


def median_seconds(command: list[str], runs: int) -> float:
    subprocess.run(command, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="fresh processes per command")
    args = parser.parse_args()

    goodwill = median_seconds([*goodwill_command(), "--help"], args.runs)
    one = median_seconds([*goodwill_command(), "clv", "fit", "--help"], args.runs)
    floor = median_seconds([sys.executable, "-c", "pass"], args.runs)
    print(f"goodwill --help     {goodwill * 1000:7.0f} ms (median of {args.runs})")
    print(f"goodwill clv fit --help {one * 1000:3.0f} ms   one command's start")
    print(
        f"python -c pass      {floor * 1000:7.0f} ms   goodwill / python: {goodwill / floor:.1f}x"
    )
    pip = pip_command()
    if pip is None:
        print("pip --version       not found: no pip on this Python")
    else:
        peer = median_seconds(pip, args.runs)
        print(
            f"pip --version       {peer * 1000:7.0f} ms   goodwill / pip:    {goodwill / peer:.1f}x"
        )


if __name__ == "__main__":
    main()
