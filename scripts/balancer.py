"""A real load balancer in front of `kb serve` replicas on loopback: Debian's nginx, started from a
config written to a scratch folder, for scripts/replicas.py and the replica and proxy tests. Not a
script: the scripts next to it (and tests) import it.

nginx rather than haproxy because its passive health check is the one the deployment wants: a
replica whose connection fails, is refused or answers 502/503 is marked down for `fail_timeout`
after `max_fails` such failures, and the request is sent again to the next replica
(`proxy_next_upstream error timeout http_502 http_503`; nginx only repeats idempotent requests,
and every route here is a GET). A request already answered in part cannot be repeated.

The balancer reaches the replicas from its own loopback address, `PROXY_ADDRESS` (127.0.0.2, by
`proxy_bind`), so a replica can trust X-Forwarded-For from that address alone
(`KB_TRUSTED_PROXIES=127.0.0.2`) while a client on 127.0.0.1 talking to a replica directly stays
untrusted. Each request's id (`X-Request-Id`, sent by scripts/loadgen.py), final status, and
every replica tried with its status go to the access log, which `read_log` turns into
`LogEntry`s to join with the client's outcomes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchlib import LOOPBACK, stop, wait_until_answering

PROXY_ADDRESS = "127.0.0.2"
FAIL_TIMEOUT_S = 10  # a failed replica is skipped this long before nginx tries it again
LOG_FORMAT = "$http_x_request_id\\t$status\\t$upstream_addr\\t$upstream_status"

CONFIG = """\
{user}worker_processes 1;
pid {scratch}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 1024; }}
http {{
    log_format kb '{log_format}';
    access_log {scratch}/access.log kb;
    large_client_header_buffers 4 32k;  # the replica, not nginx, refuses a long query (413, the API's shape)
    client_body_temp_path {scratch}/client_body;
    proxy_temp_path {scratch}/proxy;
    fastcgi_temp_path {scratch}/fastcgi;
    uwsgi_temp_path {scratch}/uwsgi;
    scgi_temp_path {scratch}/scgi;
    upstream kb {{
{servers}
        keepalive 16;
    }}
    server {{
        listen {loopback}:{port};
        location / {{
            proxy_pass http://kb;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_bind {proxy_address};
            proxy_next_upstream error timeout http_502 http_503;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
        }}
    }}
}}
"""


def find_nginx() -> str | None:
    """The nginx binary (Debian puts it in /usr/sbin, which a user's PATH may lack), or None."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


@dataclass(frozen=True)
class LogEntry:
    request_id: str
    status: int  # what the balancer answered the client
    attempts: tuple[tuple[str, str], ...]  # (replica address, its status or "-") in the order tried


@dataclass
class Balancer:
    port: int
    scratch: Path

    @property
    def access_log(self) -> Path:
        return self.scratch / "access.log"


def read_log(path: Path) -> dict[str, LogEntry]:
    """Request id -> its access log entry (lines without an id are left out)."""
    entries = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        request_id, status, addresses, statuses = (line.split("\t") + ["", "", ""])[:4]
        if request_id in ("", "-"):
            continue
        split = lambda text: [part.strip() for part in text.replace(" : ", ", ").split(",")]  # noqa: E731
        entries[request_id] = LogEntry(request_id, int(status), tuple(zip(split(addresses), split(statuses))))
    return entries


@contextmanager
def nginx_balancer(upstream_ports: list[int], port: int, scratch: Path,
                   timeout: float = 30.0) -> Iterator[Balancer]:
    """nginx on 127.0.0.1:port balancing the replicas on `upstream_ports`, stopped at exit."""
    nginx = find_nginx()
    if nginx is None:
        raise RuntimeError("nginx is not installed (scripts/setup.sh installs it when run as root)")
    scratch.mkdir(parents=True, exist_ok=True)
    servers = "\n".join(f"        server {LOOPBACK}:{p} max_fails=1 fail_timeout={FAIL_TIMEOUT_S}s;"
                        for p in upstream_ports)
    config = scratch / "nginx.conf"
    config.write_text(CONFIG.format(user="user root;\n" if os.geteuid() == 0 else "", scratch=scratch,
                                    log_format=LOG_FORMAT, servers=servers, loopback=LOOPBACK, port=port,
                                    proxy_address=PROXY_ADDRESS), encoding="utf-8")
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen([nginx, "-p", str(scratch), "-c", str(config), "-e", "stderr", "-g", "daemon off;"],
                                   stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_answering(process, f"http://{LOOPBACK}:{port}/healthz", timeout, log)
            yield Balancer(port, scratch)
        finally:
            stop(process)
