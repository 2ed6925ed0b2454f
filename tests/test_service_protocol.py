"""The service's transport sends what one turn of the event loop writes as one write
(controls/service/protocol.py); the served answers themselves are tested in test_service.py."""
import asyncio

from controls.service.protocol import GatheringTransport


class Recorded(asyncio.Transport):
    def __init__(self):
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data):
        self.writes.append(bytes(data))

    def is_closing(self):
        return self.closed

    def close(self):
        self.closed = True

    def get_write_buffer_size(self):
        return 0

    def get_extra_info(self, name, default=None):
        return {"peername": ("127.0.0.1", 5000)}.get(name, default)


def test_the_writes_of_one_turn_go_out_as_one():
    async def answer():
        inner = Recorded()
        transport = GatheringTransport(inner, asyncio.get_running_loop())
        transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")  # uvicorn: the response's start
        transport.write(b"{}")  # and its body, in the same turn
        assert inner.writes == [] and transport.get_write_buffer_size() == 40
        await asyncio.sleep(0)
        transport.write(b"next")  # a later turn: a write of its own
        await asyncio.sleep(0)
        return inner.writes

    assert asyncio.run(answer()) == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}", b"next"]


def test_close_sends_what_is_pending_first():
    async def answer():
        inner = Recorded()
        transport = GatheringTransport(inner, asyncio.get_running_loop())
        transport.write(b"bye")
        transport.close()
        await asyncio.sleep(0)
        return inner

    inner = asyncio.run(answer())
    assert inner.writes == [b"bye"] and inner.closed


def test_nothing_is_written_to_a_connection_the_client_closed():
    async def answer():
        inner = Recorded()
        transport = GatheringTransport(inner, asyncio.get_running_loop())
        transport.write(b"late")
        inner.closed = True  # the client went away before the turn ended
        await asyncio.sleep(0)
        return inner.writes

    assert asyncio.run(answer()) == []


def test_everything_else_is_the_wrapped_transports():
    transport = GatheringTransport(Recorded(), asyncio.new_event_loop())
    assert transport.get_extra_info("peername") == ("127.0.0.1", 5000) and not transport.is_closing()
