"""uvicorn's HTTP protocol, each answer sent in one piece.

uvicorn writes a response's status line and headers when the application starts the response,
and the body when it sends it: two writes, so two ``send`` calls and two TCP segments, with the
client woken for each (the listening socket has ``TCP_NODELAY``, see ``chipgate serve``: without
it the second segment waited for the client's delayed acknowledgement).  Over loopback the sends
were the largest single cost of a check in a profiled server.  The transport here gathers what is
written in one turn of the event loop and sends it at the end of that turn: one ``send`` an answer.
"""
from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class GatheringTransport:
    """An asyncio transport whose writes in one turn of the loop go out as one write; everything
    else is the wrapped transport's."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop):
        self._transport, self._loop = transport, loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(data)

    def flush(self) -> None:
        if self._pending:
            data, self._pending = b"".join(self._pending), []
            if not self._transport.is_closing():  # a client gone meanwhile: nothing to send to
                self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def __getattr__(self, name: str):
        return getattr(self._transport, name)


class GatheringHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a :class:`GatheringTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(GatheringTransport(transport, self.loop))  # type: ignore[arg-type]
