"""Work split between this process and forked workers (POSIX ``fork``; elsewhere, this process alone).

Results travel back through a queue with a feeder thread, so a worker never blocks on a full pipe
while this process is still busy with its own share.

Workers are forked, so they share everything this process has computed so far
(the registry, cached outcomes) without pickling it; only each item's result is
sent back, pickled. This process works too: ``jobs=2`` is this one and one worker.

>>> sorted(in_processes(lambda n: n * n, [1, 2, 3], jobs=2))
[(1, 1), (2, 4), (3, 9)]
"""
from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence

__all__ = ["in_processes"]


def in_processes(fn: Callable, items: Sequence, jobs: int) -> Iterator[tuple]:
    """Yield ``(item, fn(item))`` for every item, in ``jobs`` processes; each takes the next item as it
    finishes one. ``fn`` must not raise (catch inside it); its results must pickle."""
    jobs = max(1, min(jobs, len(items)))
    if jobs == 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield from ((item, fn(item)) for item in items)
        return
    ctx = multiprocessing.get_context("fork")
    nxt, lock, done = ctx.Value("i", 0, lock=False), ctx.Lock(), ctx.Queue()

    def take() -> int | None:
        with lock:
            i = nxt.value
            nxt.value += 1
        return i if i < len(items) else None

    def work():
        while (i := take()) is not None:
            done.put((i, fn(items[i])))
        done.put(None)

    workers = [ctx.Process(target=work, daemon=True) for _ in range(jobs - 1)]
    for w in workers:
        w.start()
    mine = [(i, fn(items[i])) for i in iter(take, None)]
    finished = 0
    while finished < len(workers):
        got = done.get()
        if got is None:
            finished += 1
        else:
            yield items[got[0]], got[1]
    for w in workers:
        w.join()
    yield from ((items[i], r) for i, r in mine)
