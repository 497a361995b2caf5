"""Per-client rate limit on /api/search: a token bucket per client address, in memory.

Each client (keyed by `request.remote_addr`: the socket peer, or behind a balancer named in
`KB_TRUSTED_PROXIES` the client it forwarded for, see web/proxies.py) has a bucket of `burst`
tokens that refills at `per_minute / 60` tokens a second; a search takes one token. An empty bucket is a 429 with the
API's error shape (code `rate_limited`) and `Retry-After` in whole seconds.

The limiter is shared by waitress's worker threads, so one lock guards it. Memory stays bounded:
buckets are kept in least-recently-seen order and a bucket that has refilled (an idle client,
indistinguishable from a new one) is dropped; past `max_clients` the least recently seen go too.
`Settings.rate_limit_per_minute = 0` (the default) registers nothing.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, request

from kb.config import Settings

from .errors import json_error

LIMITED_ENDPOINTS = frozenset({"api.api_search"})
LIMITED_METHODS = frozenset({"GET", "HEAD"})
EXTENSION = "rate_limiter"


@dataclass
class Bucket:
    tokens: float
    updated: float  # clock reading when `tokens` was last brought up to date


class RateLimiter:
    """Token buckets keyed by client; `acquire(key)` is 0.0 when allowed, else seconds to wait."""

    def __init__(self, per_minute: int, burst: int = 0, clock: Callable[[], float] = time.monotonic,
                 max_clients: int = 10_000):
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.rate = per_minute / 60.0  # tokens a second
        self.capacity = float(burst if burst > 0 else per_minute)
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._buckets)

    def acquire(self, key: str) -> float:
        with self._lock:
            now = self.clock()
            bucket = self._buckets.pop(key, None) or Bucket(self.capacity, now)
            bucket.tokens = min(self.capacity, bucket.tokens + max(0.0, now - bucket.updated) * self.rate)
            bucket.updated = now
            self._buckets[key] = bucket  # now the most recently seen
            wait = 0.0 if bucket.tokens >= 1.0 else (1.0 - bucket.tokens) / self.rate
            if wait == 0.0:
                bucket.tokens -= 1.0
            self._evict(now)
            return wait

    def _evict(self, now: float) -> None:
        """Drop refilled buckets from the least recently seen end, then any beyond `max_clients`."""
        while self._buckets:
            bucket = next(iter(self._buckets.values()))
            if bucket.tokens + (now - bucket.updated) * self.rate < self.capacity:
                break
            self._buckets.popitem(last=False)
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)


def retry_after(wait: float) -> int:
    """Whole seconds a client should wait: rounded up, at least 1."""
    return max(1, math.ceil(wait))


def _limit_searches():
    limiter: RateLimiter | None = current_app.extensions.get(EXTENSION)
    if limiter is None or request.endpoint not in LIMITED_ENDPOINTS or request.method not in LIMITED_METHODS:
        return None
    wait = limiter.acquire(request.remote_addr or "unknown")
    if wait <= 0:
        return None
    seconds = retry_after(wait)
    response, status = json_error(429, "rate_limited", f"too many searches from this address: retry in {seconds} s")
    response.headers["Retry-After"] = str(seconds)
    return response, status


def register(app: Flask, settings: Settings) -> None:
    """Limit searches per client when `settings.rate_limit_per_minute` is set (tests may swap the limiter)."""
    if settings.rate_limit_per_minute > 0:
        app.extensions[EXTENSION] = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
    app.before_request(_limit_searches)
