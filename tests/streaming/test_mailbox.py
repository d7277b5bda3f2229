"""Latest-item mailbox: newest wins, drops are counted, nothing grows."""

from __future__ import annotations

import threading
import time

from streaming.mailbox import Mailbox, MailboxStats


def test_put_overwrites_and_counts_drops() -> None:
    box: Mailbox[int] = Mailbox()
    assert box.put(1) is False
    assert box.put(2) is True
    assert box.put(3) is True
    assert box.stats() == MailboxStats(puts=3, takes=0, drops=2, waiting=1)
    assert box.take(0) == 3
    assert box.take(0) is None  # take empties the slot
    assert box.stats() == MailboxStats(puts=3, takes=1, drops=2, waiting=0)


def test_take_times_out_with_none() -> None:
    box: Mailbox[int] = Mailbox()
    t0 = time.monotonic()
    assert box.take(timeout=0.05) is None
    assert 0.04 <= time.monotonic() - t0 < 1.0


def test_take_wakes_on_put_and_on_close() -> None:
    box: Mailbox[str] = Mailbox()
    got: list[str | None] = []
    t = threading.Thread(target=lambda: got.append(box.take(timeout=5.0)))
    t.start()
    time.sleep(0.02)
    box.put("a")
    t.join(timeout=2.0)
    assert got == ["a"]
    t = threading.Thread(target=lambda: got.append(box.take(timeout=None)))
    t.start()
    time.sleep(0.02)
    box.close()
    t.join(timeout=2.0)
    assert not t.is_alive() and got == ["a", None]
    assert box.put("b") is False and box.take(0) is None  # closed: puts ignored


def test_close_leaves_the_waiting_item_takeable() -> None:
    box: Mailbox[int] = Mailbox()
    box.put(5)
    box.close()
    assert box.closed
    assert box.take(0) == 5
    assert box.take(None) is None  # closed and empty: returns at once


def test_fast_producer_slow_consumer_drops_old_items_and_never_grows() -> None:
    """A producer at full speed and a consumer 1 ms per item: every item either was taken or was
    counted as dropped, items arrive in increasing order (newest wins) and the slot holds at most 1."""
    box: Mailbox[int] = Mailbox()
    n = 20_000
    taken: list[int] = []
    done = threading.Event()

    def consume() -> None:
        while True:
            item = box.take(timeout=0.5)
            if item is None:
                if done.is_set():
                    return
                continue
            taken.append(item)
            time.sleep(0.001)

    before = set(threading.enumerate())
    consumer = threading.Thread(target=consume)
    consumer.start()
    for i in range(n):
        box.put(i)
        assert box.stats().waiting <= 1
    done.set()
    consumer.join(timeout=5.0)
    assert not consumer.is_alive()
    stats = box.stats()
    assert stats.puts == n
    assert stats.takes + stats.drops + stats.waiting == n
    assert stats.takes == len(taken) and stats.drops > 0
    assert taken == sorted(taken) and len(set(taken)) == len(taken)
    assert taken[-1] == n - 1 or stats.waiting == 1
    assert set(threading.enumerate()) == before
