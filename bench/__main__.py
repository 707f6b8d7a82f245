"""`make bench` (`python -m bench [section ...]`): runs the benchmarks, writes bench/results/latest.json.

Each section is a module here with `TITLE` and `run() -> dict` (printing its own table);
its figures land under its name in the results file.
"""

import importlib
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
SECTIONS = ["slice", "scaleout", "intake_bench", "routing_bench", "notify_bench", "reports_bench"]


def machine() -> dict:
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "git": rev or None, "at": datetime.now(UTC).isoformat(timespec="seconds")}


def main(argv: list[str]) -> None:
    chosen = argv or SECTIONS
    results = {"machine": machine()}
    for name in chosen:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bench.{name}" and not argv:
                continue  # a section not written yet
            raise
        print(f"\n== {module.TITLE}", flush=True)
        results[name] = module.run()
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "latest.json"
    previous = json.loads(out.read_text(encoding="utf-8")) if out.exists() and argv else {}
    previous.update(results)
    out.write_text(json.dumps(previous, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
