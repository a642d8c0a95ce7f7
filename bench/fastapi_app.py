"""FastAPI/uvicorn reference for bench/http_bench.sh: the reference implementation's stack
serving the same two endpoints as da, with the same JSON shapes and equivalent work per request.

  GET /api/health          -> {"status","db_schema","current","expected"}  (reads schema_version)
  GET /api/catalog/tables  -> {"tables":[{id,name,description,source_type,query_mode,published,
                               rows,size_bytes,updated,status,error}]}        (bearer token required)

Work per catalog request, as in da: look the bearer token's SHA-256 up (token joined with its
user), record last_used_at, list the registry, then read each table's sync state. The state lives
in an in-memory SQLite database (Python's standard library; Debian has no python3-duckdb) seeded
from BENCH_SEED (a JSON file written by http_bench.sh from da's own answers). With
BENCH_FASTAPI_MODE=static the catalog is served from that list without any lookup (less work
than da does: a stricter reference).

Run: uvicorn fastapi_app:app --host 127.0.0.1 --port N (from this directory).
"""
import hashlib
import json
import os
import sqlite3
import time

from fastapi import FastAPI, Header, HTTPException
from fastapi.responses import JSONResponse

SEED = json.load(open(os.environ["BENCH_SEED"]))
MODE = os.environ.get("BENCH_FASTAPI_MODE", "sqlite")
EXPECTED_SCHEMA = 1

db = sqlite3.connect(":memory:", check_same_thread=False)
db.executescript(
    """
    CREATE TABLE schema_version (version INTEGER, applied_at TEXT);
    CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT, is_admin INTEGER, active INTEGER);
    CREATE TABLE access_tokens (id TEXT PRIMARY KEY, user_id TEXT, token_hash TEXT UNIQUE,
                                expires_at REAL, revoked_at REAL, last_used_at REAL);
    CREATE TABLE table_registry (id TEXT PRIMARY KEY, name TEXT, description TEXT,
                                 source_type TEXT, query_mode TEXT);
    CREATE TABLE sync_state (table_id TEXT PRIMARY KEY, last_sync TEXT, rows INTEGER,
                             size_bytes INTEGER, status TEXT, error TEXT);
    """
)
db.execute("INSERT INTO schema_version VALUES (?, datetime('now'))", (EXPECTED_SCHEMA,))
db.execute("INSERT INTO users VALUES ('u1', 'admin@localhost', 1, 1)")
db.execute(
    "INSERT INTO access_tokens VALUES ('t1', 'u1', ?, NULL, NULL, NULL)",
    (hashlib.sha256(SEED["token"].encode()).hexdigest(),),
)
for t in SEED["tables"]:
    db.execute(
        "INSERT INTO table_registry VALUES (?, ?, ?, ?, ?)",
        (t["id"], t["name"], t["description"], t["source_type"], t["query_mode"]),
    )
    if t["updated"] is not None:
        db.execute(
            "INSERT INTO sync_state VALUES (?, ?, ?, ?, ?, ?)",
            (t["id"], t["updated"], t["rows"], t["size_bytes"], t["status"], t["error"]),
        )
db.commit()
PUBLISHED = {t["name"] for t in SEED["tables"] if t["published"]}

app = FastAPI()


@app.get("/api/health")
async def health():
    row = db.execute("SELECT max(version) FROM schema_version").fetchone()
    current = row[0] if row else None
    ok = current == EXPECTED_SCHEMA
    body = {
        "status": "ok" if ok else "unhealthy",
        "db_schema": "ok" if ok else "mismatch",
        "current": current,
        "expected": EXPECTED_SCHEMA,
    }
    return JSONResponse(body, status_code=200 if ok else 503)


def authenticate(authorization: str):
    if not authorization or not authorization.startswith("Bearer "):
        raise HTTPException(401, "missing bearer token")
    digest = hashlib.sha256(authorization[7:].encode()).hexdigest()
    row = db.execute(
        "SELECT t.id, t.expires_at, t.revoked_at, u.is_admin, u.active FROM access_tokens t "
        "JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?",
        (digest,),
    ).fetchone()
    now = time.time()
    if row is None or row[2] is not None or not row[4] or (row[1] is not None and row[1] <= now):
        raise HTTPException(401, "invalid token")
    db.execute("UPDATE access_tokens SET last_used_at = ? WHERE id = ?", (now, row[0]))
    return {"is_admin": bool(row[3])}


@app.get("/api/catalog/tables")
async def catalog(authorization: str = Header(default="")):
    if MODE == "static":
        if authorization != "Bearer " + SEED["token"]:
            raise HTTPException(401, "invalid token")
        return {"tables": SEED["tables"]}
    who = authenticate(authorization)
    tables = []
    for tid, name, description, source_type, query_mode in db.execute(
        "SELECT id, name, description, source_type, query_mode FROM table_registry ORDER BY id"
    ).fetchall():
        if not who["is_admin"]:
            continue
        e = {
            "id": tid,
            "name": name,
            "description": description,
            "source_type": source_type,
            "query_mode": query_mode,
            "published": name in PUBLISHED,
            "rows": None,
            "size_bytes": None,
            "updated": None,
            "status": "never_synced",
            "error": "",
        }
        st = db.execute(
            "SELECT last_sync, rows, size_bytes, status, error FROM sync_state WHERE table_id = ?",
            (tid,),
        ).fetchone()
        if st is not None:
            e.update(updated=st[0], rows=st[1], size_bytes=st[2], status=st[3], error=st[4] or "")
        tables.append(e)
    return {"tables": tables}
