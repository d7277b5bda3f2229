"""A one-slot, latest-item mailbox between two threads (STYLE rule 8).

Live pose wants the newest frame, never a backlog: ``put`` overwrites whatever is waiting and counts
the overwritten item as dropped; ``take`` returns the newest item and empties the slot. Memory use is
one item whatever the producer and consumer rates. (``queue.Queue(maxsize=1)`` with ``put_nowait``
does the opposite: it keeps the stale item and rejects the new one.)
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["Mailbox", "MailboxStats"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class MailboxStats:
    """Counters of a mailbox, a consistent snapshot.

    Attributes:
        puts: items offered.
        takes: items handed to a consumer.
        drops: items overwritten before anyone took them (``puts = takes + drops + waiting``).
        waiting: 1 when an item sits in the slot, else 0.
    """

    puts: int
    takes: int
    drops: int
    waiting: int


class Mailbox(Generic[T]):
    """Holds at most one item: the newest one put.

    Thread-safe for any number of producers and consumers. ``close()`` wakes every waiting consumer;
    after it ``put`` is ignored and ``take`` returns what is left, then ``None`` at once.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._item: T | None = None
        self._full = False
        self._closed = False
        self._puts = 0
        self._takes = 0
        self._drops = 0

    def put(self, item: T) -> bool:
        """Store ``item``, replacing any waiting one.

        Returns:
            ``True`` when a waiting item was overwritten (and counted as dropped).
        """
        with self._cond:
            if self._closed:
                return False
            dropped = self._full
            self._puts += 1
            self._drops += int(dropped)
            self._item = item
            self._full = True
            self._cond.notify()
        return dropped

    def take(self, timeout: float | None = None) -> T | None:
        """The newest item, emptying the slot.

        Args:
            timeout: seconds to wait for an item; ``None`` waits until one arrives or the mailbox is
                closed, ``0`` does not wait.

        Returns:
            The item, or ``None`` on timeout or when the mailbox is closed and empty.
        """
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0.0)
        with self._cond:
            while not self._full and not self._closed:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)
            if not self._full:
                return None
            item, self._item, self._full = self._item, None, False
            self._takes += 1
            return item

    def close(self) -> None:
        """Refuse further items and wake every waiting consumer (idempotent)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def drops(self) -> int:
        """Items overwritten before they were taken."""
        return self._drops

    def stats(self) -> MailboxStats:
        """A consistent snapshot of the counters."""
        with self._cond:
            return MailboxStats(self._puts, self._takes, self._drops, int(self._full))
