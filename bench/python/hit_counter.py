"""The seed lab's Flask + Redis hit counter, the Python twin of db-service for the benchmarks.

Same contract as db-service: POST /hits/<key> increments atomically (HINCRBY on the same hash
layout) and answers {"key", "hits"}. Served by gunicorn with sync workers, as the seed lab
deploys it.
"""

import os

import redis
from flask import Flask, jsonify

app = Flask(__name__)
store = redis.Redis.from_url(os.environ["REDIS_URL"])
HASH = os.environ.get("REDIS_KEY_PREFIX", "lab:") + "hits"


@app.post("/hits/<key>")
def hit(key):
    return jsonify(key=key, hits=store.hincrby(HASH, key, 1))


@app.get("/hits/<key>")
def show(key):
    return jsonify(key=key, hits=int(store.hget(HASH, key) or 0))


@app.get("/health")
def health():
    return jsonify(status="ok")
