#!/usr/bin/env python3
"""Run every bench script in bench/ and print their figures.

    .venv/bin/python bench/run_all.py [--seconds N] [--only NAME]

The bench scripts are ``bench/load.py`` and every ``bench/bench_*.py``; other modules there are
helpers (``generate.py`` fills a database for the others). Each runs in its own process,
once per entry of its ``BENCH_RUNS`` list when it has one (a literal list of argument lists,
for example ``BENCH_RUNS = [[], ["--kill"]]``), else once without arguments. ``--seconds``
is passed on as ``BENCH_SECONDS`` for scripts that run for a while. Each run is bounded
(``BENCH_TIMEOUT``, 15 minutes by default). Exit status 0 only when every run exited 0.
"""

import argparse
import ast
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def runs_of(script: Path) -> list[list[str]]:
    """The script's BENCH_RUNS (read, not imported), else one run without arguments."""
    for node in ast.parse(script.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "BENCH_RUNS" for t in node.targets):
            runs = ast.literal_eval(node.value)
            return [list(map(str, run)) for run in runs]
    return [[]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, help="how long the timed scripts run (BENCH_SECONDS)")
    parser.add_argument("--only", help="run only the script with this name (e.g. load)")
    args = parser.parse_args()
    env = dict(os.environ)
    if args.seconds:
        env["BENCH_SECONDS"] = str(args.seconds)
    timeout = float(env.get("BENCH_TIMEOUT", 900))
    scripts = sorted([*HERE.glob("bench_*.py"), HERE / "load.py"])
    if args.only:
        scripts = [p for p in scripts if p.stem == args.only]
    results = []
    for script in scripts:
        for run in runs_of(script):
            title = " ".join([f"bench/{script.name}", *run])
            print(f"\n===== {title} =====", flush=True)
            started = time.monotonic()
            try:
                code = subprocess.run([sys.executable, str(script), *run], cwd=ROOT, env=env, timeout=timeout).returncode
            except subprocess.TimeoutExpired:
                print(f"(stopped after {timeout:.0f} s)")
                code = "timeout"
            results.append((title, code, time.monotonic() - started))
    print("\n===== summary =====")
    for title, code, seconds in results:
        print(f"{'ok  ' if code == 0 else 'FAIL'} {title}  ({seconds:.0f} s{'' if code == 0 else f', exit {code}'})")
    if not results:
        print("no bench scripts found")
    return 0 if results and all(code == 0 for _t, code, _s in results) else 1


if __name__ == "__main__":
    sys.exit(main())
