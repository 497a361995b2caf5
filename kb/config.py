"""All configuration in one place: a frozen `Settings`, defaults overridable by env vars.

CLI flags and the Flask app factory build a `Settings` with `Settings.from_env(**overrides)`;
nothing else reads the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

DEFAULT_MODEL = "m3e-small"
# onnxruntime int8 embeds documents ~1.7x faster than torch fp32 at equal dev-query quality
# (scripts/bench_embed.py); "torch" (fp32, the vectors of indexes built before) and "onnx" (fp32).
DEFAULT_EMBED_BACKEND = "onnx-int8"


def _env_value(name: str, default, kind: type):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if kind is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if kind is Path:
        return Path(raw)
    return kind(raw)


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    corpus_dir: Path = Path("corpus")
    model: str = DEFAULT_MODEL
    embed_backend: str = DEFAULT_EMBED_BACKEND  # vectors are stored per (model, backend)
    # search
    max_k: int = 100
    max_offset: int = 10_000
    max_query_chars: int = 256
    semantic_candidates: int = 200
    # the match thresholds and fusion weights belong to the model: kb/data/calibration.json
    expand_english: bool = True
    query_cache_size: int = 1024
    result_cache_size: int = 1024  # search answers kept per store generation; 0 = off (benchmarks of cold queries)
    # vector index: exact below ann_threshold vectors, IVF above (scripts/bench_search.py measures recall)
    ann_threshold: int = 20_000
    ivf_nprobe: int = 64  # recall@10 0.991 at 100k chunks in ~1 ms; 32 gave 0.951, 128 gave 1.000 in ~2 ms
    # where the chunk index lives: "local" (FTS5 ranks, a FAISS file beside the database) or "milvus"
    # (a collection ranks BM25 and vectors; SQLite stays the source of truth): kb/milvus_index.py
    backend: str = "local"
    milvus_uri: str = ""  # a path: Milvus Lite; a URL (http://host:19530): a server; "": data_dir/milvus.db
    milvus_token: str = ""  # "user:password" or an API key, for a secured server
    milvus_collection: str = "kb_chunks"
    # ingest
    max_file_bytes: int = 50 * 1024 * 1024
    embed_batch_size: int = 16  # onnx-int8: 16 ran ~10 % faster than 32 (scripts/bench_embed.py)
    # web
    query_log: bool = True  # site and API searches appended to data_dir/queries.jsonl (kb queries); KB_QUERY_LOG=0: off
    rate_limit_per_minute: int = 0  # searches a client address may make a minute on /api/search; 0 = off
    rate_limit_burst: int = 0  # searches it may make at once (the token bucket's size); 0 = the per-minute figure
    max_request_bytes: int = 16 * 1024
    # behind a balancer: the socket peer is the balancer, so the client comes from its header (web/proxies.py)
    trusted_proxies: str = ""  # comma-separated addresses or CIDRs whose forwarded header is believed; "" = none
    forwarded_header: str = "X-Forwarded-For"  # the header a trusted proxy appends the client address to
    replica_name: str = ""  # when set, every response names the replica in X-KB-Replica (deployments, tests)

    ENV_PREFIX = "KB_"

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Defaults, then KB_* env vars (e.g. KB_DATA_DIR), then explicit non-None overrides."""
        values = {}
        for f in fields(cls):
            kind = type(f.default)
            values[f.name] = _env_value(cls.ENV_PREFIX + f.name.upper(), f.default, kind)
        settings = cls(**values)
        return replace(settings, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def db_path(self) -> Path:
        return Path(self.data_dir) / "kb.sqlite3"

    @property
    def milvus(self) -> str:
        """The Milvus URI the milvus backend opens."""
        return self.milvus_uri or str(Path(self.data_dir) / "milvus.db")

    @property
    def vectors_path(self) -> Path:
        return Path(self.data_dir) / "vectors.faiss"
