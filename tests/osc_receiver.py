"""A real python-osc receiver for tests: a UDP server on 127.0.0.1 (ephemeral port) on one thread."""

from __future__ import annotations

import threading
import time
from collections import Counter

from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import ThreadingOSCUDPServer

__all__ = ["OscReceiver"]


class OscReceiver:
    """Collects every message ``(address, args)`` in arrival order; use as a context manager or ``close()``."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, tuple]] = []
        self._lock = threading.Lock()
        dispatcher = Dispatcher()
        dispatcher.set_default_handler(self._on_message)
        self.server = ThreadingOSCUDPServer(("127.0.0.1", 0), dispatcher)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, name="test-osc-receiver")
        self.thread.start()

    def _on_message(self, address: str, *args: object) -> None:
        with self._lock:
            self.messages.append((address, args))

    def snapshot(self) -> list[tuple[str, tuple]]:
        with self._lock:
            return list(self.messages)

    @property
    def addresses(self) -> Counter[str]:
        """How many messages arrived per address."""
        return Counter(address for address, _ in self.snapshot())

    def names(self, *addresses: str) -> set[str]:
        """First arguments (bone or joint names) of the messages to ``addresses``."""
        return {str(args[0]) for address, args in self.snapshot() if address in addresses}

    def wait_for(self, count: int, address: str | None = None, timeout: float = 3.0) -> list[tuple[str, tuple]]:
        """Wait until ``count`` messages (to ``address``, if given) arrived; returns all messages so far."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.snapshot()
            if sum(1 for a, _ in got if address is None or a == address) >= count:
                return got
            time.sleep(0.005)
        return self.snapshot()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=2.0)

    def __enter__(self) -> OscReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
