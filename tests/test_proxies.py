"""The client behind a balancer: the right-most untrusted X-Forwarded-For address, believed only from a
trusted peer; the rate limit keys on it, behind a real nginx in front of a real `kb serve`."""

from __future__ import annotations

import http.client
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from kb.knowledge_base import KnowledgeBase
from web import create_app
from web.proxies import TrustedProxies, parse_networks

from .conftest import copy_of

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from balancer import PROXY_ADDRESS, find_nginx, nginx_balancer  # noqa: E402
from benchlib import LOOPBACK, free_port, serve_subprocess  # noqa: E402

pytest_plugins = ["tests.two_issues"]

BALANCERS = TrustedProxies(parse_networks("10.0.0.5, 192.168.0.0/16"))
SEARCH = "/api/search?q=%E9%92%99%E9%92%9B%E7%9F%BF&mode=keyword&k=1"  # 钙钛矿


# ---- the rule ------------------------------------------------------------------------------------


def test_from_a_trusted_peer_the_client_is_the_right_most_untrusted_address():
    assert BALANCERS.client("10.0.0.5", "203.0.113.7") == "203.0.113.7"
    assert BALANCERS.client("10.0.0.5", "198.51.100.1, 203.0.113.7") == "203.0.113.7"  # the left one is the client's say
    assert BALANCERS.client("10.0.0.5", "203.0.113.7, 192.168.4.4") == "203.0.113.7"  # past a second balancer
    assert BALANCERS.client("10.0.0.5", " 2001:db8::1 ") == "2001:db8::1"
    assert BALANCERS.client("10.0.0.5", "[2001:db8::1]") == "2001:db8::1"


def test_from_an_untrusted_peer_the_header_is_never_read():
    assert BALANCERS.client("203.0.113.9", "198.51.100.1") == "203.0.113.9"
    assert TrustedProxies(()).client("10.0.0.5", "198.51.100.1") == "10.0.0.5"  # trusting none is the default


def test_garbage_in_the_header_never_makes_a_new_client():
    assert BALANCERS.client("10.0.0.5", "198.51.100.1, not-an-address") == "10.0.0.5"
    assert BALANCERS.client("10.0.0.5", "not-an-address, 192.168.4.4") == "192.168.4.4"
    assert BALANCERS.client("10.0.0.5", "") == "10.0.0.5"


def test_a_chain_of_trusted_addresses_only_gives_the_farthest_hop():
    assert BALANCERS.client("10.0.0.5", "192.168.1.1, 192.168.2.2") == "192.168.1.1"


def test_an_ipv4_mapped_peer_is_matched_as_ipv4():
    assert BALANCERS.client("::ffff:10.0.0.5", "203.0.113.7") == "203.0.113.7"


def test_a_bad_setting_is_refused_with_the_entry_named(tmp_path):
    with pytest.raises(ValueError, match="'10.0.0.300'"):
        parse_networks("10.0.0.1, 10.0.0.300")
    env = {"KB_TRUSTED_PROXIES": "nginx-host", "KB_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(main, ["serve", "--port", str(free_port())], env=env)
    assert result.exit_code == 1 and "'nginx-host' is not an IP address or CIDR" in result.output
    result = CliRunner().invoke(main, ["serve", "--port", str(free_port())],
                                env={**env, "KB_TRUSTED_PROXIES": "", "KB_FORWARDED_HEADER": "X Bad"})
    assert result.exit_code == 1 and "is not an HTTP header name" in result.output


# ---- the app -------------------------------------------------------------------------------------


@pytest.fixture
def app_behind(two_issues_kb):
    settings = replace(two_issues_kb.settings, trusted_proxies="10.0.0.5", rate_limit_per_minute=1,
                       rate_limit_burst=2, replica_name="replica-7")
    return create_app(kb=KnowledgeBase(settings, embedder=two_issues_kb.embedder)).test_client()


def statuses(client, peer: str, forwarded: str | None = None, times: int = 3) -> list[int]:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return [client.get(SEARCH, headers=headers, environ_base={"REMOTE_ADDR": peer}).status_code
            for _ in range(times)]


def test_the_app_limits_the_forwarded_client_and_names_its_replica(app_behind):
    assert statuses(app_behind, "10.0.0.5", "203.0.113.1") == [200, 200, 429]
    assert statuses(app_behind, "10.0.0.5", "203.0.113.2") == [200, 200, 429]
    assert statuses(app_behind, "203.0.113.3", "198.51.100.1") == [200, 200, 429]
    assert statuses(app_behind, "203.0.113.3", "198.51.100.2", times=1) == [429]  # spoofing changes nothing
    assert app_behind.get("/healthz").headers["X-KB-Replica"] == "replica-7"


def test_forwarded_headers_from_an_untrusted_peer_are_removed_before_the_app(two_issues_kb):
    app = create_app(kb=two_issues_kb)
    seen = {}

    @app.route("/_echo")
    def echo():
        from flask import request

        seen.update(remote=request.remote_addr, xff=request.headers.get("X-Forwarded-For"),
                    host=request.headers.get("X-Forwarded-Host"))
        return "ok"

    response = app.test_client().get("/_echo", headers={"X-Forwarded-For": "1.2.3.4", "X-Forwarded-Host": "evil"},
                                     environ_base={"REMOTE_ADDR": "203.0.113.3"})
    assert response.status_code == 200 and "X-KB-Replica" not in response.headers
    assert seen == {"remote": "203.0.113.3", "xff": None, "host": None}


# ---- behind a real nginx -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def behind_nginx(tmp_path_factory, two_issues_kb):
    """kb serve trusting only the balancer's address, 3 searches per client, and nginx in front."""
    if find_nginx() is None:
        pytest.skip("nginx is not installed (scripts/setup.sh installs it when run as root)")
    scratch = tmp_path_factory.mktemp("proxied")
    data = copy_of(two_issues_kb, scratch / "data").settings.data_dir
    port, balancer_port = free_port(), free_port()
    env = {"KB_TRUSTED_PROXIES": PROXY_ADDRESS, "KB_RATE_LIMIT_PER_MINUTE": "1", "KB_RATE_LIMIT_BURST": "3"}
    with serve_subprocess(data, port, threads=2, timeout=90, env=env):
        with nginx_balancer([port], balancer_port, scratch / "nginx"):
            yield port, balancer_port


def get(port: int, source: str, forwarded: str | None = None) -> int:
    """A search from the loopback address `source` (each one a different client to nginx)."""
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=30, source_address=(source, 0))
    try:
        conn.request("GET", SEARCH, headers={"X-Forwarded-For": forwarded} if forwarded else {})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_behind_nginx_each_client_has_its_own_bucket_and_spoofing_escapes_none(behind_nginx):
    replica, balancer = behind_nginx
    assert [get(balancer, "127.0.0.3") for _ in range(4)] == [200, 200, 200, 429]
    assert get(balancer, "127.0.0.3", forwarded="203.0.113.50") == 429  # nginx appends the real address
    assert [get(balancer, "127.0.0.4") for _ in range(3)] == [200, 200, 200]  # another client, another bucket
    # straight to the replica, the header is not believed: the socket peer is the client
    assert [get(replica, "127.0.0.5", forwarded="203.0.113.51") for _ in range(4)] == [200, 200, 200, 429]
    assert get(replica, "127.0.0.5", forwarded="203.0.113.52") == 429
    assert get(replica, "127.0.0.5", forwarded="127.0.0.6") == 429
