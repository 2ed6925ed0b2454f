"""``chipgate serve --workers N``: uvicorn's supervisor, with a listening socket of its own for each worker.

Worker processes sharing one listening socket do not share its connections evenly: whichever wakes
first accepts every connection waiting (measured: 39 of 50 keep-alive clients in one of two
processes), and a keep-alive client stays where it landed, so the busier process's clients wait
longer throughout (median 40-47 ms against 13-20 ms for the other's at 50 clients; the aggregate p99
hardly moved, both processes keeping a core busy either way).  Here each worker slot has a socket of its own,
all bound to one address with ``SO_REUSEPORT``, and the kernel deals new connections between them
by a hash of the client's address and port (50 clients: 26/24, 29/21).

The supervisor holds every slot's socket: a worker that dies is replaced on its slot's socket, and
the connections that arrived meanwhile wait in that socket's queue for the replacement (as they
would wait for a busy worker); ``SIGTTIN`` opens a slot and ``SIGTTOU`` closes the last one, its
waiting connections refused.  ``SIGHUP`` reloads each worker's bundle in place (no restart).
"""
from __future__ import annotations

import logging
import os
import signal
import socket
from collections.abc import Callable

from uvicorn.config import Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process

log = logging.getLogger("uvicorn.error")


def _ipv6(host: str) -> bool:
    return ":" in host


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if _ipv6(host) else socket.AF_INET


def free_port(host: str, port: int) -> int:
    """``port`` (or a free one, for 0) once it is known that nothing listens on it: sockets with
    ``SO_REUSEPORT`` join any others of this user listening there with it, so that a second service
    started on a taken port would share the first one's connections instead of failing."""
    with socket.socket(_family(host)) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as a listener binds: TIME_WAIT is no obstacle
        probe.bind((host, port))  # OSError (address in use) if anything listens there, with SO_REUSEPORT or not
        return probe.getsockname()[1]


def listening_socket(host: str, port: int, backlog: int) -> socket.socket:
    """A socket listening on ``host:port`` that others may share (``SO_REUSEPORT``); port 0 takes a free one.

    ``TCP_NODELAY`` is set here for the connections it accepts, which inherit it: asyncio sets it only
    on sockets it opened itself, and without it each answer waits some 40 ms for the client's delayed
    acknowledgement (Nagle's algorithm)."""
    sock = socket.create_server((host, port), family=_family(host), backlog=backlog, reuse_port=True)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.set_inheritable(True)
    return sock


class Supervisor(Multiprocess):
    """uvicorn's ``Multiprocess`` (health checks, restarts of dead workers, signals), each worker on its slot's socket."""

    def __init__(self, config: Config):
        self.port = free_port(config.host, config.port)
        super().__init__(config, sockets=[])
        self.slots = [self._another_socket() for _ in range(self.processes_num)]
        host = f"[{config.host}]" if _ipv6(config.host) else config.host  # as a URL writes an IPv6 address
        log.info("chipgate serving on http://%s:%d with %d processes", host, self.port, self.processes_num)

    def _another_socket(self) -> socket.socket:
        return listening_socket(self.config.host, self.port, self.config.backlog)

    def _start(self, slot: int) -> Process:
        process = Process(self.config, [self.slots[slot]])
        process.start()
        return process

    def init_processes(self) -> None:
        self.processes = [self._start(slot) for slot in range(self.processes_num)]

    def _slot_by_slot(self, method: Callable[[], None]) -> None:
        """Run one of ``Multiprocess``'s methods that replace workers on each slot in turn, with only that
        slot's worker and socket in view, so that a replacement listens where its predecessor did."""
        everyone = self.processes
        try:
            for slot, process in enumerate(everyone):
                self.processes, self.sockets = [process], [self.slots[slot]]
                method()
                everyone[slot] = self.processes[0]
        finally:
            self.processes, self.sockets = everyone, []

    def keep_subprocess_alive(self) -> None:
        self._slot_by_slot(super().keep_subprocess_alive)

    def restart_all(self) -> None:
        self._slot_by_slot(super().restart_all)

    def handle_hup(self) -> None:
        """Each worker reloads in place (keeping its bundle if the new one fails), instead of a restart."""
        for process in self.processes:
            os.kill(process.pid, signal.SIGHUP)

    def handle_ttin(self) -> None:
        log.info("Received SIGTTIN, adding a process and its socket.")
        self.slots.append(self._another_socket())
        self.processes_num += 1
        self.processes.append(self._start(len(self.slots) - 1))

    def handle_ttou(self) -> None:
        if self.processes_num <= 1:
            log.info("Received SIGTTOU with one process left: it stays.")
            return
        log.info("Received SIGTTOU, stopping the last process and closing its socket.")
        self.processes_num -= 1
        process = self.processes.pop()
        process.terminate()
        process.join()
        self.slots.pop().close()
