"""`python -m bench.roundtrips [-m services] <arguments of python -m services>`: that process, counting its
database round trips.

The benchmark's cluster starts every API and worker through this (services.cluster.Cluster `launcher`), so
the figures per case come from the processes themselves, with nothing added to the services' code. Counted
through SQLAlchemy, for every engine of the process: statements (SAVEPOINT/RELEASE included), COMMITs and
ROLLBACKs, and pool pre-pings. psycopg sends a transaction's BEGIN as a round trip of its own, so a
transaction costs two besides its statements. The psycopg connections that LISTEN/NOTIFY are not counted.

Each process writes its counts to `$CG_ROUNDTRIPS_DIR/<pid>.json` twice a second and at exit.
"""

import atexit
import json
import os
import sys
import threading
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import Engine

COUNTS = {"statements": 0, "transactions": 0, "pings": 0}
_lock = threading.Lock()


def _add(name: str) -> None:
    with _lock:
        COUNTS[name] += 1


def install() -> None:
    event.listen(Engine, "before_cursor_execute", lambda *_: _add("statements"))
    event.listen(Engine, "commit", lambda *_: _add("transactions"))
    event.listen(Engine, "rollback", lambda *_: _add("transactions"))
    ping = PGDialect_psycopg.do_ping

    def counted_ping(self, dbapi_connection):
        _add("pings")
        return ping(self, dbapi_connection)

    PGDialect_psycopg.do_ping = counted_ping


def round_trips(counts: dict) -> int:
    return counts["statements"] + 2 * counts["transactions"] + counts["pings"]


def _writer(path: Path, stop: threading.Event) -> None:
    while not stop.wait(0.5):
        write(path)


def write(path: Path) -> None:
    with _lock:
        data = json.dumps(COUNTS)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(data)
    tmp.replace(path)


def totals(folder: Path) -> dict[str, int]:
    """The counts of every process that wrote into `folder`, summed."""
    out = dict.fromkeys(COUNTS, 0)
    for f in folder.glob("*.json"):
        try:
            for k, v in json.loads(f.read_text()).items():
                out[k] = out.get(k, 0) + v
        except (OSError, ValueError):
            continue
    return out


def main() -> None:
    folder = Path(os.environ["CG_ROUNDTRIPS_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{os.getpid()}.json"
    install()
    stop = threading.Event()
    threading.Thread(target=_writer, args=(path, stop), daemon=True, name="roundtrips").start()
    atexit.register(write, path)
    args = sys.argv[1:]
    if args[:2] == ["-m", "services"]:  # what services.cluster.Cluster puts after its launcher
        args = args[2:]
    sys.argv = ["services", *args]
    from services.__main__ import main as services_main

    services_main()


if __name__ == "__main__":
    main()
