"""The seeds' session-cache example as a user would otherwise deploy it: Flask, one global
redis-py ConnectionPool, server-side sessions in Redis, /api/data cache-aside over SQLite.
Same routes and TTLs as redis-gateway's session service, so one load client drives both.

Run: REDIS_URL=redis://127.0.0.1:6379/0 DATABASE_PATH=users.sqlite \
     gunicorn -w 4 -b 127.0.0.1:8000 flask_session_app:app
"""
import json
import os
import secrets
import sqlite3

import redis
from flask import Flask, jsonify, make_response, request

SESSION_TTL = 1800
USER_CACHE_TTL = 3600

app = Flask(__name__)
pool = redis.ConnectionPool.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), max_connections=50)
DATABASE_PATH = os.environ.get("DATABASE_PATH", "users.sqlite")


def db():
    connection = sqlite3.connect(f"file:{DATABASE_PATH}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    return connection


def fetch_user(user_id):
    with db() as connection:
        row = connection.execute("SELECT id, name, email, created_at FROM users WHERE id = ?", (user_id,)).fetchone()
    return dict(row) if row else None


@app.post("/api/login")
def login():
    body = request.get_json(silent=True) or {}
    user_id = body.get("user_id")
    if not isinstance(user_id, int) or fetch_user(user_id) is None:
        return jsonify(error="no such user"), 401
    sid = secrets.token_hex(16)
    r = redis.Redis(connection_pool=pool)
    r.set(f"session:{sid}", user_id, ex=SESSION_TTL)
    response = make_response(jsonify(session_id=sid, user_id=user_id, expires_in=SESSION_TTL))
    response.set_cookie("sid", sid, max_age=SESSION_TTL, httponly=True, samesite="Lax")
    return response


@app.get("/api/data")
def data():
    sid = request.cookies.get("sid")
    if not sid:
        return jsonify(error="not logged in"), 401
    r = redis.Redis(connection_pool=pool)
    user_id = r.get(f"session:{sid}")
    if user_id is None:
        return jsonify(error="not logged in"), 401
    r.expire(f"session:{sid}", SESSION_TTL)
    user_id = int(user_id)
    cached = r.get(f"user_data:{user_id}")
    if cached is not None:
        response = make_response(cached)
        response.headers["Content-Type"] = "application/json"
        response.headers["X-Cache"] = "hit"
        return response
    user = fetch_user(user_id)
    if user is None:
        return jsonify(error="user not found"), 404
    payload = json.dumps(user, sort_keys=True)
    r.setex(f"user_data:{user_id}", USER_CACHE_TTL, payload)
    response = make_response(payload)
    response.headers["Content-Type"] = "application/json"
    response.headers["X-Cache"] = "miss"
    return response


@app.post("/api/logout")
def logout():
    sid = request.cookies.get("sid")
    if sid:
        redis.Redis(connection_pool=pool).delete(f"session:{sid}")
    response = make_response("", 204)
    response.delete_cookie("sid")
    return response
