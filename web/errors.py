"""Errors at the edge: a library `QueryError` or an HTTP error becomes a JSON 4xx on the API and a
plain-Chinese page on the site; anything else is logged and answered with a 500 that says nothing
about the internals. The `{"error": {"code", "message"}}` shape is the API's one error shape.
"""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from kb.errors import BackendError, QueryError

JSON_PREFIXES = ("/api/", "/healthz")

# What a reader is told on a page, per QueryError code (the API keeps the library's message).
QUERY_MESSAGES = {
    "empty_query": "请输入要搜索的词。",
    "query_too_long": "搜索词太长了，请缩短后再试。",
    "invalid_query": "搜索词必须是文字。",
    "invalid_mode": "搜索方式只能是混合、关键词或语义。",
    "invalid_k": "每页条数不对。",
    "invalid_offset": "页码不对。",
    "invalid_type": "类型只能是正文、表格或政策条款。",
    "invalid_date": "日期不对：请填写 2025-06-23 这样的日期，并且开始日期不能晚于结束日期。",
}
HTTP_MESSAGES = {
    404: "找不到这个页面：链接可能有误，或这篇文章、这一期已不在索引中。",
    405: "不支持这种请求方式。",
    413: "请求太大了。",
    500: "服务器出错了，请稍后再试。",
    503: "检索服务暂时不可用，请稍后再试。",
}


def is_json_request() -> bool:
    return request.path.startswith(JSON_PREFIXES)


def json_error(status: int, code: str, message: str):
    return jsonify({"error": {"code": code, "message": message}}), status


def query_message(error: QueryError) -> str:
    return QUERY_MESSAGES.get(error.code, f"请求有误：{error.message}")


def abort_too_large(limit: int) -> None:
    raise RequestEntityTooLarge(f"the request is longer than {limit} bytes")


def _page(status: int, message: str):
    return render_template("error.html", status=status, message=message), status


def _query_error(error: QueryError):
    if is_json_request():
        return json_error(400, error.code, error.message)
    return _page(400, query_message(error))


def _http_error(error: HTTPException):
    status = error.code or 500
    if is_json_request():
        response, status = json_error(status, error.name.lower().replace(" ", "_"), error.description or error.name)
        if status == 405 and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response, status
    return _page(status, HTTP_MESSAGES.get(status, error.description or error.name))


def _backend_unavailable(error: BackendError):
    """The chunk index's engine (a Milvus server) is unreachable: a 503 a balancer can route
    around and a client can retry, not a 500."""
    current_app.logger.error("chunk index unavailable on %s: %s", request.path, error)
    if is_json_request():
        response, status = json_error(503, "backend_unavailable", str(error))
    else:
        response, status = _page(503, HTTP_MESSAGES[503])
    response = current_app.make_response((response, status))
    response.headers["Retry-After"] = "5"
    return response


def _unexpected(error: Exception):
    current_app.logger.exception("unhandled error on %s", request.path)
    if is_json_request():
        return json_error(500, "internal_error", "the server failed to answer; the error is logged")
    return _page(500, HTTP_MESSAGES[500])


def register(app: Flask) -> None:
    app.register_error_handler(QueryError, _query_error)
    app.register_error_handler(BackendError, _backend_unavailable)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
