"""The chunk index in Milvus (`KB_BACKEND=milvus`): BM25 and dense vectors in one collection.

SQLite stays the source of truth (issues, articles, chunks, their segmented FTS5 text, the stored
embeddings); a Milvus collection holds what ranks at scale: one row per chunk, keyed by its
SQLite rowid, with its segmented text (Milvus's BM25 function fills a sparse field from it), its
vector, and the filter fields (issue dates as YYYYMMDD integers, section, type, source, issue).
The same URI reaches Milvus Lite (a path: embedded, one process per database) and a Milvus
server or cluster (a URL, with a token when secured), through one client, pymilvus.

The text is sent already segmented by kb.segment (jieba with the PV dictionary, the terms FTS5
indexes), and Milvus only splits it on spaces: the dictionary then reaches Milvus exactly, on
Lite and on a server alike, where a dictionary inside Milvus's own jieba analyzer would have to
be shipped to every node and kept in step with kb/data/pv_dict.txt. Milvus Lite knows the
`standard` and `jieba` tokenizers and its `standard` splits on whitespace and lower-cases; a
server's `standard` splits CJK text into characters, so there the `whitespace` tokenizer is used.

Like the FAISS file's sidecar, the collection's properties name the store (its id), the store
generation and the model its rows reflect. `sync` brings it to a generation by the difference of
rowids (delete the rows of removed chunks, upsert the new ones), flushes, and records the
generation last, so a writer killed mid-sync leaves an older generation recorded and the next sync
(or `kb check --repair`) completes it; a reader whose SQLite copy is older than the collection
never syncs backwards, and the facade drops hits of chunks its generation does not hold. BM25
statistics are kept per segment, so rows are flushed after each sync.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import segment
from .crash import crash_point
from .errors import BackendError
from .filters import CODED, Filters

CONNECT_SECONDS = 10.0
ID_WINDOW = 16_384  # rowids per query when listing the collection (Milvus's query limit)
TOP_K = 16_384  # Milvus's largest search limit
WRITE_BATCH = 512  # rows per insert
TEXT_BYTES = 65_535  # VARCHAR limit of the segmented text
CODE_BYTES = 2_048  # section, type, source, issue
GENERATION, MODEL, STORE, SEGMENTER = "kb.generation", "kb.model", "kb.store", "kb.segmenter"  # collection properties
STRONG = "Strong"  # reads that decide what to write or report see every acknowledged write
BM25_PARAMS = {"inverted_index_algo": "TAAT_NAIVE", "bm25_k1": 1.2, "bm25_b": 0.75}  # FTS5's k1 and b
FIELD = {"section": "section", "type": "type", "source": "source", "issue": "issue"}


def is_lite(uri: str) -> bool:
    """A URI that is not a URL names a Milvus Lite database (a local path)."""
    return "://" not in uri and not uri.startswith("unix:")


def literal(value: str) -> str | None:
    """A Milvus string literal (quotes and backslashes escaped); None for a value no chunk can hold
    (control characters, which Milvus's expression grammar cannot escape)."""
    if any(ord(ch) < 32 for ch in value):
        return None
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def yyyymmdd(iso: str) -> int:
    return int(iso.replace("-", ""))


def expression(filters: Filters | None) -> str:
    """Filters as a Milvus boolean expression (kb/filters.py's overlap rule on integer dates)."""
    if not filters:
        return ""
    clauses = []
    if filters.date_from is not None:
        clauses.append(f"date_end >= {yyyymmdd(filters.date_from)}")
    if filters.date_to is not None:
        clauses.append(f"date_start <= {yyyymmdd(filters.date_to)}")
    for name in CODED:
        value = getattr(filters, name)
        if value is not None:
            quoted = literal(value)
            if quoted is None:
                return "rowid < 0"  # matches nothing, as no stored value holds a control character
            clauses.append(f"{FIELD[name]} == {quoted}")
    return " and ".join(clauses)


def _clip(text: str | None, limit: int) -> str:
    data = (text or "").encode("utf-8")
    return text or "" if len(data) <= limit else data[:limit].decode("utf-8", "ignore")


class _Engine:
    """The client, with every failed call (a server down, a refused request) a `BackendError`
    naming the URI, which the CLI prints and the web app answers with a 503."""

    def __init__(self, client, uri: str):
        self._client = client
        self._uri = uri

    def __getattr__(self, name: str):
        method = getattr(self._client, name)

        def call(*args, **kwargs):
            from pymilvus.exceptions import MilvusException

            try:
                return method(*args, **kwargs)
            except MilvusException as error:
                raise BackendError(f"Milvus at {self._uri}: {name} failed: {error.message}") from error

        return call


@dataclass
class SyncReport:
    added: int = 0
    removed: int = 0


class MilvusIndex:
    """One collection of chunk rows: BM25 top-k, dense top-k, both filtered, and sync from SQLite."""

    def __init__(self, client, collection: str, model: str, dim: int, lite: bool, uri: str = "", store: str = ""):
        self.client = client
        self.uri = uri
        self.collection = collection
        self.model = model  # the collection holds this model's vectors (re-created for another)
        self.dim = dim
        self.lite = lite
        self.store = store  # the SQLite store's id (re-created for another database)

    @classmethod
    def connect(cls, uri: str, token: str, collection: str, model: str, dim: int, store: str) -> "MilvusIndex":
        """Open the collection, creating it when absent and re-creating it when it holds another
        model's vectors, another width, the rows of another database (`store`: its id in meta;
        rowids restart in a rebuilt database, so its rows would be read as another's), or text cut
        by another segmenter (`kb.segment.FINGERPRINT`, as the store re-segments its own)."""
        for name in ("pymilvus", "milvus_lite.server_manager"):  # failures reach the caller as BackendError
            logging.getLogger(name).setLevel(logging.CRITICAL)
        from pymilvus import MilvusClient
        from pymilvus.exceptions import MilvusException

        lite = is_lite(uri)
        if lite:
            if not uri.endswith(".db"):  # how pymilvus tells a Milvus Lite path from a server address
                raise BackendError(f"a Milvus Lite database is a path ending in .db, not {uri!r}")
            uri = str(Path(uri).expanduser().resolve())
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
        try:
            client = _Engine(MilvusClient(uri=uri, token=token or "", timeout=CONNECT_SECONDS), uri)
            index = cls(client, collection, model, dim, lite, uri, store)
            index._ensure()
        except (MilvusException, BackendError) as error:
            raise BackendError(f"Milvus at {uri} could not be opened: {error}"
                          + (" (Milvus Lite serves one process per database: stop the other one, or run"
                             " `milvus-lite server` and point KB_MILVUS_URI at it)" if lite else "")) from error
        return index

    # ---- the collection -----------------------------------------------------------------------

    def _ensure(self) -> None:
        client, name = self.client, self.collection
        if client.has_collection(name):
            properties = self._properties()
            if (properties.get(MODEL) == self.model and properties.get(STORE) == self.store
                    and properties.get(SEGMENTER) == segment.FINGERPRINT and self._width() == self.dim):
                client.load_collection(name)
                return
            client.drop_collection(name)  # another model's vectors or segmenter's text: rebuilt from SQLite by the next sync
        self._create()

    def _create(self) -> None:
        from pymilvus import DataType, Function, FunctionType, MilvusClient

        lite_engine = str(self.client.get_server_version()).startswith("milvus_lite")  # a path, or `milvus-lite server`
        tokenizer = {"tokenizer": "standard"} if lite_engine else {"tokenizer": "whitespace", "filter": ["lowercase"]}
        schema = MilvusClient.create_schema(auto_id=False)
        schema.add_field("rowid", DataType.INT64, is_primary=True)
        schema.add_field("text", DataType.VARCHAR, max_length=TEXT_BYTES, enable_analyzer=True,
                         analyzer_params=tokenizer)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=self.dim)
        schema.add_field("date_start", DataType.INT64)
        schema.add_field("date_end", DataType.INT64)
        for name in FIELD.values():
            schema.add_field(name, DataType.VARCHAR, max_length=CODE_BYTES)
        schema.add_function(Function(name="text_bm25", function_type=FunctionType.BM25,
                                     input_field_names=["text"], output_field_names=["sparse"]))
        params = self.client.prepare_index_params()
        params.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                         params=BM25_PARAMS)
        params.add_index(field_name="dense", index_type="AUTOINDEX", metric_type="COSINE")
        self.client.create_collection(self.collection, schema=schema)
        # sync=False: waiting on the build asks for AllocTimestamp, which Milvus Lite does not serve
        self.client.create_index(self.collection, params, sync=False)
        self.client.alter_collection_properties(self.collection, properties={
            MODEL: self.model, STORE: self.store, SEGMENTER: segment.FINGERPRINT, GENERATION: "-1"})
        self.client.load_collection(self.collection)

    def _properties(self) -> dict:
        return self.client.describe_collection(self.collection).get("properties") or {}

    def _width(self) -> int | None:
        for field in self.client.describe_collection(self.collection).get("fields", []):
            if field.get("name") == "dense":
                return int(field.get("params", {}).get("dim", 0))
        return None

    def recorded_generation(self) -> int:
        """The store generation the rows were last synced to (-1: never)."""
        return int(self._properties().get(GENERATION, -1))

    @property
    def size(self) -> int:
        """Rows in the collection (a server does not deduplicate primary keys on insert, so `kb check`
        compares this with the distinct rowids)."""
        rows = self.client.query(self.collection, filter="", output_fields=["count(*)"], consistency_level=STRONG)
        return int(rows[0]["count(*)"]) if rows else 0

    def ids(self) -> np.ndarray:
        """Every rowid in the collection, ascending (read in rowid windows: no iterator state)."""
        if not self.size:
            return np.zeros(0, dtype=np.int64)
        found: list[int] = []
        start, highest = 0, self._highest()
        while start <= highest:
            rows = self.client.query(self.collection, filter=f"rowid >= {start} and rowid < {start + ID_WINDOW}",
                                     output_fields=["rowid"], limit=ID_WINDOW, consistency_level=STRONG)
            found.extend(int(r["rowid"]) for r in rows)
            start += ID_WINDOW
        return np.unique(np.asarray(found, dtype=np.int64))

    def _highest(self) -> int:
        """The largest rowid, by bisection over count queries (Milvus has no max() aggregate)."""
        low, high = 0, 1
        while self._count(f"rowid >= {high}"):
            low, high = high, high * 2
        while low < high:  # the smallest h with nothing at or above it, minus one
            middle = (low + high) // 2
            if self._count(f"rowid > {middle}"):
                low = middle + 1
            else:
                high = middle
        return low

    def _count(self, condition: str) -> int:
        rows = self.client.query(self.collection, filter=condition, output_fields=["count(*)"], consistency_level=STRONG)
        return int(rows[0]["count(*)"]) if rows else 0

    # ---- sync from SQLite ------------------------------------------------------------------

    def sync(self, store, live: np.ndarray, generation: int) -> SyncReport:
        """Make the collection hold the `live` chunks (their rows read from `store`) and record
        `generation`; idempotent (rows are upserted), so an interrupted sync is finished by the next
        one, and two processes syncing at once write the same rows. Rowids above the highest this
        database ever gave are left alone: they are chunks of a newer copy of it, another writer's
        (a rowid is never given twice), not orphans of this one."""
        present = self.ids()
        removed = np.setdiff1d(present[present <= store.highest_rowid()], live)
        added = np.setdiff1d(live, present)
        for start in range(0, len(removed), ID_WINDOW):
            batch = removed[start : start + ID_WINDOW]
            self.client.delete(self.collection, filter=f"rowid in [{','.join(map(str, batch.tolist()))}]")
        written = 0
        for start in range(0, len(added), WRITE_BATCH):
            rows = store.index_rows(self.model, added[start : start + WRITE_BATCH].tolist(), self.dim)
            if rows:
                self.client.upsert(self.collection, [self._row(r) for r in rows])
                written += len(rows)
            crash_point("milvus_partial")
        self.client.flush(self.collection)
        if self.recorded_generation() < generation:  # a newer writer's record stands
            self.client.alter_collection_properties(self.collection, properties={GENERATION: str(generation)})
        return SyncReport(written, len(removed))

    @staticmethod
    def _row(row) -> dict:
        return {
            "rowid": int(row["rowid"]),
            "text": _clip(row["segmented"], TEXT_BYTES),
            "dense": np.frombuffer(row["vector"], dtype=np.float32).tolist(),
            "date_start": yyyymmdd(row["date_start"]),
            "date_end": yyyymmdd(row["date_end"]),
            "section": _clip(row["section"], CODE_BYTES),
            "type": _clip(row["type"], CODE_BYTES),
            "source": _clip(row["source"], CODE_BYTES),
            "issue": _clip(row["issue_id"], CODE_BYTES),
        }

    # ---- the two legs ------------------------------------------------------------------------

    def keyword(self, terms: list[str], filters: Filters | None, limit: int) -> list[tuple[int, float]]:
        """(rowid, BM25) best first over the chunks holding any of the (segmented) terms."""
        if not terms or limit <= 0:
            return []
        hits = self.client.search(self.collection, data=[" ".join(terms)], anns_field="sparse",
                                  limit=min(limit, TOP_K),
                                  filter=expression(filters), output_fields=["rowid"],
                                  search_params={"metric_type": "BM25"})
        # Milvus Lite reports BM25 as a negative distance, a server as a positive score
        return [(int(h["id"] if "id" in h else h["rowid"]), abs(float(h["distance"]))) for h in hits[0]]

    @property
    def kind(self) -> str:
        return "milvus-lite" if self.lite else "milvus"

    def search(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> list[tuple[int, float]]:
        """(rowid, cosine) best first, optionally within the filters."""
        if k <= 0:
            return []
        query = np.asarray(vector, dtype=np.float32).reshape(-1).tolist()
        hits = self.client.search(self.collection, data=[query], anns_field="dense", limit=min(k, TOP_K),
                                  filter=expression(filters), output_fields=["rowid"],
                                  search_params={"metric_type": "COSINE"})
        return [(int(h["id"] if "id" in h else h["rowid"]), float(h["distance"])) for h in hits[0]]

    def close(self) -> None:
        """Close the client; for Milvus Lite also stop its in-process server, which releases the
        database's lock, so another process (a `kb ingest` after a test, a replica) may open it."""
        try:
            self.client.close()
        finally:
            if self.lite:
                from milvus_lite.server_manager import server_manager_instance

                server_manager_instance.release_server(self.uri)
