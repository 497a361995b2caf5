"""Two `kb serve` replicas over copies of one index behind a real nginx: one is SIGKILLed in the
middle of the load test and the other answers everything after it (scripts/replicas.py, small).
Run twice: over the replicas' own copied files, and over one Milvus that both read (a real
`milvus-lite server` on loopback) with copies of the SQLite file only."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from balancer import find_nginx, read_log  # noqa: E402
from loadgen import discover, plan  # noqa: E402
from benchlib import milvus_server  # noqa: E402
from replicas import ANSWERED, analyse, backend_env, deploy, load_with_kill, sync_milvus  # noqa: E402

pytest_plugins = ["tests.two_issues"]

REQUESTS = 300
KILL_AT = 0.3


@pytest.fixture(scope="module", params=["local", "milvus"])
def killed_run(request, tmp_path_factory, two_issues_kb, monkeypatch_module):
    if find_nginx() is None:
        pytest.skip("nginx is not installed (scripts/setup.sh installs it when run as root)")
    monkeypatch_module.delenv("KB_RATE_LIMIT_PER_MINUTE", raising=False)
    scratch = tmp_path_factory.mktemp(f"replicas-{request.param}")
    source = two_issues_kb.settings.data_dir
    with ExitStack() as stack:
        uri = None
        if request.param == "milvus":
            pytest.importorskip("pymilvus", reason="the milvus extra is not installed")
            uri = stack.enter_context(milvus_server(scratch / "milvus")).uri
            assert sync_milvus(source, uri) == len(two_issues_kb.store.chunk_rowids())
        deployment = stack.enter_context(deploy(source, scratch, count=2, threads=2,
                                                extra_env=backend_env(request.param, uri)))
        issues, articles = discover(deployment.balancer.port)
        outcomes, _, kill = load_with_kill(deployment, plan(REQUESTS, issues, articles, seed=1), concurrency=4,
                                           kill_at=KILL_AT)
        log = read_log(deployment.balancer.access_log)
    assert kill is not None, "the run ended before the kill"
    return outcomes, log, kill, analyse(outcomes, log, kill)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_every_request_sent_after_the_kill_is_answered_by_the_survivor(killed_run):
    outcomes, _, kill, failover = killed_run
    assert len(outcomes) == REQUESTS
    assert kill.replica.name == "replica-2" and failover.after
    assert {o.status in ANSWERED for o in failover.after} == {True}
    assert {o.replica for o in failover.after} == {"replica-1"}
    assert failover.survivor_kept_answering


def test_both_replicas_answered_before_the_kill(killed_run):
    outcomes, _, kill, _ = killed_run
    before = {o.replica for o in outcomes if o.started < kill.sent_at and o.status in ANSWERED}
    assert before == {"replica-1", "replica-2"}


def test_failures_are_only_requests_in_flight_on_the_killed_replica_each_counted(killed_run):
    outcomes, log, _, failover = killed_run
    assert set(log) == {str(o.index) for o in outcomes}  # every request is in the balancer's log, by its id
    failed = sorted(o.index for o in outcomes if o.status not in ANSWERED)
    assert failover.unexplained == []
    assert failed == failover.in_flight_failed
    assert set(failed) <= set(failover.in_flight)
    assert failover.in_flight_answered + len(failover.in_flight_failed) == len(failover.in_flight)
