"""A test hook for crash safety: `KB_TEST_CRASH_AT=<point>` kills the process (SIGKILL, no
cleanup, no flush) when it reaches the named point of an ingest.

The points, in the order an ingest passes them:

- `parsed`: an issue file is read and parsed, nothing written yet (indexer/pipeline.py)
- `in_transaction`: inside `Store.replace_issue`, every row written, before the commit
- `committed`: the issue is committed, the vector index not yet saved (indexer/pipeline.py)
- `vectors_tmp_written`: the new FAISS file is written under its temporary name, not renamed
- `vectors_renamed`: the FAISS file is renamed into place, its JSON sidecar not yet written
- `milvus_partial`: with `KB_BACKEND=milvus`, a batch of rows is inserted, the sync not finished

Unset (always, outside the crash tests) it costs one environment lookup. This is the one place
besides `kb.config` that reads the environment, because the points sit below any `Settings`.
"""

from __future__ import annotations

import os
import signal

CRASH_POINTS = ("parsed", "in_transaction", "committed", "vectors_tmp_written", "vectors_renamed")
MILVUS_CRASH_POINTS = ("milvus_partial",)  # reached only with KB_BACKEND=milvus
ENV_VAR = "KB_TEST_CRASH_AT"


def crash_point(name: str) -> None:
    """SIGKILL this process if KB_TEST_CRASH_AT names this point."""
    if os.environ.get(ENV_VAR) == name:
        os.kill(os.getpid(), signal.SIGKILL)
