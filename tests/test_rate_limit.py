"""The per-client search rate limit: token buckets with an injected clock, and the 429 the API answers."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from kb.knowledge_base import KnowledgeBase
from web import create_app
from web.ratelimit import EXTENSION, RateLimiter, retry_after

from .test_api_openapi import check

pytest_plugins = ["tests.two_issues"]

SEARCH = {"q": "钙钛矿", "mode": "keyword", "k": 1}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def limited(two_issues_kb):
    """An app allowing 3 searches at once, then one every 20 s, per client; its limiter on a fake clock."""
    settings = replace(two_issues_kb.settings, rate_limit_per_minute=3)
    app = create_app(kb=KnowledgeBase(settings, embedder=two_issues_kb.embedder))
    clock = Clock()
    app.extensions[EXTENSION] = RateLimiter(3, clock=clock)
    return app.test_client(), clock


def search(client, address: str = "10.0.0.1"):
    return client.get("/api/search", query_string=SEARCH, environ_base={"REMOTE_ADDR": address})


# ---- the limiter -----------------------------------------------------------------------------------


def test_a_bucket_allows_its_burst_then_asks_to_wait_until_a_token_refills():
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=2, clock=clock)
    assert [limiter.acquire("a") for _ in range(2)] == [0.0, 0.0]
    assert limiter.acquire("a") == pytest.approx(1.0)
    clock.now += 0.5
    assert limiter.acquire("a") == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.acquire("a") == 0.0


def test_the_burst_defaults_to_the_per_minute_figure():
    limiter = RateLimiter(per_minute=5, clock=Clock())
    assert [limiter.acquire("a") for _ in range(6)][-2:] == [0.0, pytest.approx(12.0)]


def test_retry_after_is_whole_seconds_and_at_least_one():
    assert [retry_after(w) for w in (0.01, 1.0, 1.2, 19.99)] == [1, 1, 2, 20]


def test_idle_clients_are_forgotten_and_the_client_count_is_capped():
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=1, clock=clock, max_clients=100)
    for n in range(50):
        limiter.acquire(f"10.0.0.{n}")
    assert len(limiter) == 50
    clock.now += 1.0  # every bucket has refilled: those clients are as good as new
    limiter.acquire("10.0.1.1")
    assert len(limiter) == 1
    for n in range(500):
        limiter.acquire(f"10.0.2.{n}")
    assert len(limiter) == 100


def test_threads_share_one_budget():
    limiter = RateLimiter(per_minute=100, clock=Clock())
    allowed = []

    def hammer():
        allowed.extend(limiter.acquire("a") == 0.0 for _ in range(50))

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(allowed) == 100


def test_a_limit_of_zero_is_refused():
    with pytest.raises(ValueError):
        RateLimiter(per_minute=0)


# ---- the app ---------------------------------------------------------------------------------------


def test_searches_under_the_limit_are_answered_and_the_next_is_a_429_with_retry_after(limited):
    client, _ = limited
    assert [search(client).status_code for _ in range(3)] == [200, 200, 200]
    refused = search(client)
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited" and refused.get_json()["error"]["message"]
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["Retry-After"] == "20"
    assert refused.headers["Access-Control-Allow-Origin"] == "*"  # a browser client can read why
    document = client.get("/api/openapi.json").get_json()
    check(document, "/api/search", refused)  # the 429 is documented, with its Retry-After header
    assert "Retry-After" in document["paths"]["/api/search"]["get"]["responses"]["429"]["headers"]


def test_another_client_address_has_its_own_budget(limited):
    client, _ = limited
    for _ in range(4):
        search(client, "10.0.0.1")
    assert search(client, "10.0.0.1").status_code == 429
    assert [search(client, "10.0.0.2").status_code for _ in range(3)] == [200, 200, 200]


def test_the_budget_refills_as_time_passes(limited):
    client, clock = limited
    for _ in range(3):
        search(client)
    assert search(client).status_code == 429
    clock.now += 19.0
    assert search(client).status_code == 429
    assert search(client).headers["Retry-After"] == "1"
    clock.now += 1.0
    assert search(client).status_code == 200
    clock.now += 60.0
    assert [search(client).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_only_searches_are_limited(limited):
    client, _ = limited
    for _ in range(4):
        search(client)
    assert search(client).status_code == 429
    for url in ("/healthz", "/api/issues", "/api/issues/2025-06-23", "/api/articles/2025-06-23-01", "/",
                "/search?q=钙钛矿", "/issues", "/api/openapi.json", "/static/style.css"):
        assert client.get(url, environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 200, url
    preflight = client.options("/api/search", environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert preflight.status_code == 200


def test_a_bad_request_over_the_limit_is_still_refused_first(limited):
    client, _ = limited
    for _ in range(3):
        search(client)
    assert client.get("/api/search?q=", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 429


def test_the_limit_comes_from_the_settings(two_issues_kb):
    settings = replace(two_issues_kb.settings, rate_limit_per_minute=120, rate_limit_burst=2)
    app = create_app(kb=KnowledgeBase(settings, embedder=two_issues_kb.embedder))
    client = app.test_client()
    assert [search(client).status_code for _ in range(3)] == [200, 200, 429]
    assert app.extensions[EXTENSION].capacity == 2 and app.extensions[EXTENSION].rate == 2.0


def test_searches_are_not_limited_by_default(two_issues_kb):
    assert two_issues_kb.settings.rate_limit_per_minute == 0
    app = create_app(kb=two_issues_kb)
    client = app.test_client()
    assert EXTENSION not in app.extensions
    assert {search(client).status_code for _ in range(30)} == {200}


def test_the_limit_is_read_from_the_environment(monkeypatch):
    from kb.config import Settings

    monkeypatch.setenv("KB_RATE_LIMIT_PER_MINUTE", "30")
    monkeypatch.setenv("KB_RATE_LIMIT_BURST", "5")
    settings = Settings.from_env()
    assert (settings.rate_limit_per_minute, settings.rate_limit_burst) == (30, 5)
