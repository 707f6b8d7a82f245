"""The bound: a minimal FastAPI endpoint doing one INSERT into the same PostgreSQL.

`python -m bench.bound_app --port P --db URL`: served by uvicorn exactly like the services.
"""

import argparse

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


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    uvicorn.run(make_app(args.db), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
