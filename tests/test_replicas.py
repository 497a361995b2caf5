"""Two `kb serve` replicas over copies of one index behind a real nginx: one is SIGKILLed in the
middle of the load test and the other answers everything after it (scripts/replicas.py, small)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from balancer import find_nginx, read_log  # noqa: E402
from loadgen import discover, plan  # noqa: E402
from replicas import ANSWERED, analyse, deploy, load_with_kill  # noqa: E402

pytest_plugins = ["tests.two_issues"]

REQUESTS = 300
KILL_AT = 0.3


@pytest.fixture(scope="module")
def killed_run(tmp_path_factory, two_issues_kb, monkeypatch_module):
    if find_nginx() is None:
        pytest.skip("nginx is not installed (scripts/setup.sh installs it when run as root)")
    monkeypatch_module.delenv("KB_RATE_LIMIT_PER_MINUTE", raising=False)
    with deploy(two_issues_kb.settings.data_dir, tmp_path_factory.mktemp("replicas"), count=2, threads=2) as deployment:
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
