"""Replicas behind a balancer: N `kb serve` over copies of one index, nginx in front, one replica
SIGKILLed in the middle of the load test.

    python scripts/replicas.py [--data-dir DIR] [--replicas 2] [--requests 3000] [--concurrency 8]
                               [--kill-at 0.3] [--threads 4] [--backend local|milvus --milvus-uri URI]

Builds an index of corpus/ (or takes --data-dir), makes one copy of it per replica (SQLite's
backup of kb.sqlite3, consistent while a writer runs, plus the vector files), and starts the
replicas on loopback ports, each named (`KB_REPLICA_NAME`, answered in X-KB-Replica) and trusting
X-Forwarded-For from the balancer's address only (`KB_TRUSTED_PROXIES`, web/proxies.py). nginx
(scripts/balancer.py) balances them round-robin and sends a failed request to the next replica.
The load test's seeded mix (scripts/loadgen.py) goes through the balancer; once --kill-at of the
requests are answered, the last replica gets SIGKILL. The replicas only read their copies, so
they need no coordination: a new index is published by copying it again and restarting them one
at a time.

It prints the load test's table, which replica answered how many, and what the kill did, from
the balancer's log joined to the client's outcomes by request id: the requests in flight on the
killed replica (unanswered when it was killed, and tried there), how many of them the client got
an answer to anyway (nginx sent them on) and how many reached it as a 5xx or a connection error
(a reply the replica had begun cannot be repeated: the client gets a cut-off body),
and every request sent after the kill: who answered it, and how often nginx still tried the dead
replica first. Exit 1 when a request sent after the kill was not answered (2xx/4xx) by a
survivor, or a request failed that was not in flight on the killed replica.

`--backend milvus` points every replica at one Milvus (KB_BACKEND, KB_MILVUS_URI) and copies only
the SQLite file. Milvus Lite serves a database to one process, so several replicas need a server:
`--milvus-uri URI` names one (a cluster), and without it the script starts `milvus-lite server` on
loopback (scripts/benchlib.py) and syncs the source index into it before the replicas start.
"""

from __future__ import annotations

import argparse
import os
import signal
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from balancer import PROXY_ADDRESS, Balancer, LogEntry, nginx_balancer, read_log
from benchlib import LOOPBACK, free_port, milvus_server, serve_subprocesses
from loadgen import Outcome, build_index, discover, plan, report, run

DB_FILE = "kb.sqlite3"
NOT_COPIED = {DB_FILE, f"{DB_FILE}-wal", f"{DB_FILE}-shm", "queries.jsonl"}  # the db goes by backup; logs stay
VECTOR_FILES = ("vectors.faiss", "vectors.json")
ANSWERED = range(200, 500)  # 2xx-4xx: the client got an answer it can act on


@dataclass
class Replica:
    name: str
    port: int
    data_dir: Path
    process: subprocess.Popen | None = None  # once started

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"


@dataclass
class Deployment:
    replicas: list[Replica]
    balancer: Balancer


@dataclass
class Kill:
    replica: Replica
    after: int  # answers the client had when the kill was sent
    sent_at: float  # perf_counter() just before SIGKILL
    dead_at: float  # perf_counter() once the process was reaped: nothing it holds can answer now


@dataclass
class Failover:
    """What the kill did, joined from the client's outcomes and the balancer's log."""

    answered_by: Counter
    in_flight: list[int]  # request ids unanswered when the kill was sent, tried on the killed replica
    in_flight_answered: int  # ... that the client got an answer to all the same (nginx tried the next one)
    in_flight_failed: list[int]  # ... that reached the client as a 5xx or no answer
    after: list[Outcome]  # sent once the killed replica was dead
    after_unanswered: list[Outcome]  # ... not answered 2xx-4xx, or answered by the killed replica (impossible)
    retried_after: int  # ... that nginx sent to the dead replica first (refused, then the next)
    unexplained: list[Outcome] = field(default_factory=list)  # failures not in flight on the killed one

    @property
    def survivor_kept_answering(self) -> bool:
        return bool(self.after) and not self.after_unanswered and not self.unexplained


def copy_index(source: Path, target: Path, vectors: bool = True) -> Path:
    """A copy of the index in `source` for one replica: SQLite's online backup of the database, and
    the other files (vectors unless `vectors` is False: a Milvus backend keeps them there)."""
    target.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source / DB_FILE) as original, sqlite3.connect(target / DB_FILE) as copy:
        original.backup(copy)
    original.close()
    copy.close()
    for path in source.iterdir():
        if path.is_file() and path.name not in NOT_COPIED and (vectors or path.name not in VECTOR_FILES):
            shutil.copy2(path, target / path.name)
    return target


def sync_milvus(source: Path, milvus_uri: str) -> int:
    """Bring the Milvus collection at `milvus_uri` to the source index (what `kb ingest` does after
    it writes); how many chunks it holds. The replicas then only read it."""
    from kb.config import Settings
    from kb.knowledge_base import KnowledgeBase

    kb = KnowledgeBase(Settings.from_env(data_dir=source, backend="milvus", milvus_uri=milvus_uri))
    try:
        return kb.refresh_vectors().size
    finally:
        kb.close()


def backend_env(backend: str, milvus_uri: str | None) -> dict[str, str]:
    """The env vars that point a replica at its chunk index: nothing for the local files."""
    if backend == "milvus":
        return {"KB_BACKEND": "milvus", "KB_MILVUS_URI": milvus_uri or ""}
    return {}


@contextmanager
def deploy(source: Path, scratch: Path, count: int = 2, threads: int = 4,
           extra_env: dict[str, str] | None = None) -> Iterator[Deployment]:
    """`count` replicas over copies of `source` and nginx in front of them, all on loopback."""
    extra_env = extra_env or {}
    vectors = extra_env.get("KB_BACKEND", "local") == "local"
    replicas = [Replica(f"replica-{n}", free_port(), copy_index(source, scratch / f"replica-{n}", vectors))
                for n in range(1, count + 1)]
    env = {"KB_TRUSTED_PROXIES": PROXY_ADDRESS, **extra_env}
    servers = [(r.data_dir, r.port, {**env, "KB_REPLICA_NAME": r.name}) for r in replicas]
    with serve_subprocesses(servers, threads) as processes:
        for replica, process in zip(replicas, processes):
            replica.process = process
        with nginx_balancer([r.port for r in replicas], free_port(), scratch / "nginx") as balancer:
            yield Deployment(replicas, balancer)


class Killer:
    """An `on_outcome` hook: SIGKILL `victim` once `after` requests have been answered."""

    def __init__(self, victim: Replica, after: int):
        self.victim = victim
        self.after = after
        self.count = 0
        self.kill: Kill | None = None
        self._lock = threading.Lock()

    def __call__(self, outcome: Outcome) -> None:
        with self._lock:
            self.count += 1
            if self.kill is not None or self.count < self.after:
                return
            sent_at = time.perf_counter()
            self.victim.process.send_signal(signal.SIGKILL)
            self.victim.process.wait()
            self.kill = Kill(self.victim, self.count, sent_at, time.perf_counter())


def load_with_kill(deployment: Deployment, requests: list[tuple[str, str]], concurrency: int, kill_at: float,
                   max_seconds: float = 600.0) -> tuple[list[Outcome], float, Kill | None]:
    """The planned requests through the balancer, the last replica killed after `kill_at` of them."""
    killer = Killer(deployment.replicas[-1], max(1, int(len(requests) * kill_at)))
    outcomes, elapsed = run(deployment.balancer.port, requests, concurrency, max_seconds, on_outcome=killer)
    return outcomes, elapsed, killer.kill


def analyse(outcomes: list[Outcome], log: dict[str, LogEntry], kill: Kill) -> Failover:
    """Join the client's outcomes to the balancer's log around the kill. In flight on the killed
    replica: sent before it died, not yet answered when the kill was sent, and tried there (a reply
    it had begun is cut off: nginx logs its 200, the client gets a truncated body)."""
    dead = kill.replica.address
    answers = {str(status) for status in ANSWERED}

    def attempts_at_dead(outcome: Outcome) -> list[str]:
        entry = log.get(str(outcome.index))
        return [status for addr, status in entry.attempts if addr == dead] if entry else []

    in_flight = [o for o in outcomes if o.started < kill.dead_at and o.started + o.seconds > kill.sent_at
                 and attempts_at_dead(o)]
    in_flight_ids = {o.index for o in in_flight}
    after = [o for o in outcomes if o.started >= kill.dead_at]
    return Failover(
        answered_by=Counter(o.replica or "nginx itself" for o in outcomes if o.status is not None),
        in_flight=sorted(in_flight_ids),
        in_flight_answered=sum(o.status in ANSWERED for o in in_flight),
        in_flight_failed=sorted(o.index for o in in_flight if o.status not in ANSWERED),
        after=after,
        after_unanswered=[o for o in after if o.status not in ANSWERED or o.replica == kill.replica.name],
        retried_after=sum(any(s not in answers for s in attempts_at_dead(o)) for o in after),
        unexplained=[o for o in outcomes if o.status not in ANSWERED and o.index not in in_flight_ids],
    )


def print_failover(kill: Kill, failover: Failover, started: float) -> None:
    print()
    print("answered by: " + ", ".join(f"{name} {count:,}" for name, count in sorted(failover.answered_by.items())))
    print(f"killed {kill.replica.name} ({kill.replica.address}, SIGKILL) after {kill.after:,} answers, "
          f"{kill.sent_at - started:.1f} s into the run; reaped {1000 * (kill.dead_at - kill.sent_at):.1f} ms later")
    print(f"in flight on it at the kill: {len(failover.in_flight)}: {failover.in_flight_answered} answered all "
          f"the same (nginx sent them on), {len(failover.in_flight_failed)} failed at the client"
          + (f" (request ids {failover.in_flight_failed})" if failover.in_flight_failed else ""))
    after_by = Counter(o.replica or "nginx itself" for o in failover.after if o.status is not None)
    print(f"after the kill: {len(failover.after):,} requests, answered by "
          + (", ".join(f"{name} {count:,}" for name, count in sorted(after_by.items())) or "nobody")
          + f"; {len(failover.after_unanswered)} not answered by a survivor; "
          f"{failover.retried_after} first sent to the dead replica by nginx (refused, sent on)")
    print(f"failures not explained by the kill: {len(failover.unexplained)}"
          + "".join(f"\n  request {o.index} ({o.kind}): {o.status or 'no answer'}" for o in failover.unexplained))
    print("the survivor kept answering" if failover.survivor_kept_answering else "THE SURVIVOR STOPPED ANSWERING")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None, help="A built index (default: ingest corpus/ "
                        "into a temporary folder).")
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--kill-at", type=float, default=0.3, help="Kill the last replica once this share of "
                        "the requests has been answered.")
    parser.add_argument("--threads", type=int, default=4, help="kb serve --threads, per replica")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", choices=("local", "milvus"), default="local",
                        help="The replicas' chunk index: their copied files, or one Milvus at --milvus-uri.")
    parser.add_argument("--milvus-uri", default=None, help="A Milvus server every replica reads "
                        "(e.g. http://127.0.0.1:19530), with --backend milvus; default: a milvus-lite server "
                        "on loopback, started here.")
    args = parser.parse_args()
    if args.replicas < 2:
        parser.error("--replicas must be at least 2: one is killed")
    os.environ.pop("KB_RATE_LIMIT_PER_MINUTE", None)  # one client address: a limit would refuse the test
    with tempfile.TemporaryDirectory(prefix="kb-replicas-") as scratch:
        source = args.data_dir or build_index(Path(scratch) / "source")
        with ExitStack() as stack:
            milvus_uri = args.milvus_uri
            if args.backend == "milvus":
                if milvus_uri is None:
                    milvus_uri = stack.enter_context(milvus_server(Path(scratch) / "milvus")).uri
                print(f"Milvus at {milvus_uri}: {sync_milvus(source, milvus_uri)} chunks")
            deployment = stack.enter_context(deploy(source, Path(scratch), args.replicas, args.threads,
                                                    backend_env(args.backend, milvus_uri)))
            issues, articles = discover(deployment.balancer.port)
            requests = plan(args.requests, issues, articles, args.seed)
            started = time.perf_counter()
            outcomes, elapsed, kill = load_with_kill(deployment, requests, args.concurrency, args.kill_at)
            log = read_log(deployment.balancer.access_log)
        names = ", ".join(f"{r.name} {r.address}" for r in deployment.replicas)
        print(f"{args.replicas} x kb serve --threads {args.threads} ({args.backend} backend, copies of {source}: {names}) "
              f"behind nginx on {LOOPBACK}:{deployment.balancer.port}; {len(issues)} issues, {len(articles)} articles")
        report(outcomes, elapsed, args.requests, args.concurrency)
        if kill is None:
            print("the run ended before the kill")
            return 1
        failover = analyse(outcomes, log, kill)
        print_failover(kill, failover, started)
    return 0 if failover.survivor_kept_answering else 1


if __name__ == "__main__":
    sys.exit(main())
