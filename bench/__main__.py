"""`make bench`: runs the benchmarks and writes bench/results/latest.json."""

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from . import slice as slice_bench

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict:
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "git": rev or None, "at": datetime.now(UTC).isoformat(timespec="seconds")}


def main() -> None:
    print("slice: POST /intake/v1/cases → dispatched → notified (services mode, PostgreSQL + RabbitMQ)")
    print(slice_bench.HEADER)
    results = {"machine": machine(), "slice": slice_bench.run()}
    s = results["slice"]["summary"]
    b = results["slice"]["bound"]
    print(f"\nbound (one INSERT endpoint): {b['peak']['accepted_rps']:.0f}/s peak, "
          f"p99 {b['at_300_rps']['http_ms']['p99']} ms at 300/s")
    print(f"accepted {s['accepted_cases_per_s']:.0f} cases/s; pipeline {s['pipeline_cases_per_s']} cases/s "
          f"(target ≥ 1000); e2e p99 at 300/s {s['e2e_p99_ms_at_300_rps']} ms (target ≤ 250)")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "latest.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
