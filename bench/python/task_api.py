"""The seed lab's FastAPI Task Manager API, the Python twin of api-service for the benchmarks.

Same contract and the same table as api-service: GET /tasks?limit=100 lists tasks in id order,
POST /tasks creates one (title 1-200 characters after trimming). PostgreSQL through an asyncpg
pool, served by uvicorn.
"""

import asyncio
import os
from datetime import datetime

import asyncpg
from fastapi import FastAPI, HTTPException, Query, Response
from pydantic import BaseModel

app = FastAPI()
COLUMNS = "id, title, description, completed, created_at, updated_at"


class TaskInput(BaseModel):
    title: str
    description: str | None = None


_pool = None
_pool_lock = asyncio.Lock()


async def pool():
    """The connection pool, opened on first use (works on Debian's older FastAPI too)."""
    global _pool
    async with _pool_lock:
        if _pool is None:
            _pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=2, max_size=10)
    return _pool


class Task(BaseModel):
    id: int
    title: str
    description: str
    completed: bool
    created_at: datetime
    updated_at: datetime


@app.get("/tasks", response_model=list[Task])
async def list_tasks(limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0)):
    rows = await (await pool()).fetch(
        f"SELECT {COLUMNS} FROM tasks ORDER BY id LIMIT $1 OFFSET $2", limit, offset
    )
    return [dict(row) for row in rows]


@app.post("/tasks", response_model=Task, status_code=201)
async def create_task(task: TaskInput, response: Response):
    title = task.title.strip()
    if not 1 <= len(title) <= 200:
        raise HTTPException(422, "title must be 1 to 200 characters")
    row = await (await pool()).fetchrow(
        f"INSERT INTO tasks (title, description) VALUES ($1, $2) RETURNING {COLUMNS}",
        title, task.description or "",
    )
    response.headers["Location"] = f"/tasks/{row['id']}"
    return dict(row)


@app.get("/health")
async def health():
    return {"status": "ok"}
