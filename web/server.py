"""Serving the app with waitress, accepting request lines with raw UTF-8 in them.

`curl 'http://127.0.0.1:8000/api/search?q=绿电码头'` sends the Chinese characters as raw UTF-8
bytes instead of %-escapes. Waitress refuses such a request line ("Bad URI"); browsers never
send one, but people at a terminal do. Here every byte above 0x7F in the request line is
%-escaped before waitress parses it, which is exactly what a browser would have sent.
"""

from __future__ import annotations

import re

from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import BaseWSGIServer, create_server

NON_ASCII = re.compile(rb"[\x80-\xff]")


def escape_request_line(header_plus: bytes) -> bytes:
    """The header block with non-ASCII bytes of its first line %-escaped; the rest untouched."""
    line_end = header_plus.find(b"\r\n")
    if line_end < 0:
        return header_plus
    first_line = NON_ASCII.sub(lambda m: b"%%%02X" % m.group()[0], header_plus[:line_end])
    return first_line + header_plus[line_end:]


class Utf8RequestParser(HTTPRequestParser):
    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(escape_request_line(header_plus))


class Utf8Channel(HTTPChannel):
    parser_class = Utf8RequestParser


def make_server(app, host: str = "127.0.0.1", port: int = 8000, threads: int = 4):
    """A waitress server (not yet running) whose connections accept raw UTF-8 request lines."""
    # the app's ProxyMiddleware (web/proxies.py) removes untrusted proxy headers itself: waitress's
    # clearing would drop X-Forwarded-For before the app could read it from a trusted balancer
    server = create_server(app, host=host, port=port, threads=threads, ident="kb",
                           clear_untrusted_proxy_headers=False)
    listeners = [server, *getattr(server, "map", {}).values()]  # one, or one per address of a host name
    for listener in listeners:
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class = Utf8Channel
    return server


def serve(app, host: str = "127.0.0.1", port: int = 8000, threads: int = 4) -> None:
    """Run until interrupted."""
    server = make_server(app, host, port, threads)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
