"""The library's errors that callers turn into messages at their edge (a CLI message, a JSON 4xx).

`QueryError` is a request the caller must fix (its `code` names the parameter at fault);
`ModelError` is an embedding model that cannot be found or loaded.
"""

from __future__ import annotations


class QueryError(ValueError):
    """A request the caller must fix; `code` names the parameter at fault."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class ModelError(RuntimeError):
    """The embedding model cannot be found or loaded."""


class BackendError(RuntimeError):
    """The chunk index's engine (a Milvus server or Milvus Lite database) cannot be reached or opened."""
