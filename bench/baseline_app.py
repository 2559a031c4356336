"""The intake benchmark's baseline: the least a FastAPI service can do per POST.

One sync endpoint (run in the thread pool, like tnld's) that takes a JSON object and inserts it
as one row with the same driver (psycopg 3 via SQLAlchemy, same pool size), committing each.
No authentication, no validation, no idempotency: the floor under the same server stack.

Served exactly as ``tnld serve`` serves the service: ``uvicorn.run(..., factory=True,
log_level="info", proxy_headers=True)``, with the same number of request threads (anyio's
thread pool; ``TNLD_REQUEST_THREADS`` for tnld). Usage:
``python bench/baseline_app.py --port 8001 --database-url postgresql://... [--threads 4]``
"""

from __future__ import annotations

import argparse
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from anyio import to_thread
from fastapi import Body, FastAPI
from sqlalchemy import Column, DateTime, MetaData, Table, Uuid, create_engine
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()
items = Table(
    "bench_baseline_items",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("body", JSONB),
    Column("created_at", DateTime(timezone=True)),
)


def create_app() -> FastAPI:
    url = os.environ["BASELINE_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    metadata.create_all(engine)
    threads = int(os.environ["BASELINE_THREADS"])

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = threads
        yield

    app = FastAPI(title="baseline", lifespan=lifespan)

    @app.post("/items", status_code=201)
    def create_item(body: dict[str, Any] = Body()) -> dict[str, str]:
        item_id = uuid.uuid4()
        with engine.begin() as connection:
            connection.execute(
                items.insert().values(id=item_id, body=body, created_at=datetime.now(UTC))
            )
        return {"id": str(item_id)}

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--threads", type=int, default=4, help="request threads (as tnld's)")
    args = parser.parse_args()
    os.environ["BASELINE_DATABASE_URL"] = args.database_url
    os.environ["BASELINE_THREADS"] = str(args.threads)
    uvicorn.run(
        "baseline_app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        log_level="info",
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
