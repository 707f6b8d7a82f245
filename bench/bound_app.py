"""The bound: a minimal FastAPI endpoint doing one INSERT into the same PostgreSQL.

`python -m bench.bound_app --port P --db URL`: served by uvicorn exactly like the services.
"""

import argparse
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import Column, Integer, MetaData, Table, Text, insert

from shared.db import make_engine

metadata = MetaData()
rows = Table("bench_bound", metadata, Column("id", Integer, primary_key=True), Column("body", Text))


class Body(BaseModel):
    description: str


def make_app(url: str) -> FastAPI:
    engine = make_engine(url)
    metadata.create_all(engine)
    app = FastAPI()

    @app.post("/bound", status_code=201)
    def bound(body: Body) -> dict:
        with engine.begin() as conn:
            conn.execute(insert(rows).values(body=body.description))
        return {"ok": True}

    return app


@contextmanager
def bound_server(db_url: str, log_path: Path) -> Iterator[str]:
    """The bound endpoint as its own uvicorn process on a free port; yields its URL."""
    from services.cluster import ROOT, free_port, wait_for

    port = free_port()
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "bench.bound_app", "--port", str(port), "--db", db_url],
                                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/bound"
    try:
        wait_for(lambda: _post_ok(url), timeout=30, what="bound endpoint up")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def _post_ok(url: str) -> bool:
    try:
        return httpx.post(url, json={"description": "up"}, timeout=1).status_code == 201
    except httpx.HTTPError:
        return False


def bound_body(i: int) -> dict:
    return {"description": f"bound {i}"}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    uvicorn.run(make_app(args.db), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
