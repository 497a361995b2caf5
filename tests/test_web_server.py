"""The waitress server `kb serve` runs: raw UTF-8 in a request line, as curl sends it, is served."""

from __future__ import annotations

import json
import socket
import threading

import pytest

from web import create_app
from web.server import escape_request_line, make_server


def test_only_the_request_line_is_escaped():
    header = "GET /api/search?q=绿电 HTTP/1.1\r\nX-Note: 绿\r\n\r\n".encode()
    escaped = escape_request_line(header)
    assert escaped.startswith(b"GET /api/search?q=%E7%BB%BF%E7%94%B5 HTTP/1.1\r\n")
    assert escaped.endswith("X-Note: 绿\r\n\r\n".encode())


@pytest.fixture
def served(corpus_kb):
    server = make_server(create_app(kb=corpus_kb), "127.0.0.1", 0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield server.effective_port
    server.close()
    thread.join(timeout=5)


def raw_get(port: int, target: bytes) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_a_raw_utf8_query_is_answered_like_an_escaped_one(served):
    status, body = raw_get(served, "/api/search?q=绿电码头&mode=keyword".encode())
    assert status == 200
    top = json.loads(body)["results"][0]
    assert top["article"]["source"] == "浙江省太阳能光伏行业协会" and top["issue"]["id"] == "2025-06-23"
    escaped_status, escaped_body = raw_get(served, b"/api/search?q=%E7%BB%BF%E7%94%B5%E7%A0%81%E5%A4%B4&mode=keyword")
    assert escaped_status == 200
    assert json.loads(escaped_body)["results"][0]["id"] == top["id"]
