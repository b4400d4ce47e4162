"""Jupyter kernels that start and stop without jupyter_client's fixed waits (the notebook runner and nbval).

jupyter_client 8 spends about 0.3 s of each kernel's life waiting on a clock
rather than on the kernel:

- ``wait_for_ready`` ends by reading the kernel's IOPub channel until it has
  been silent for 0.2 s (a flush of the start-up messages);
- ``shutdown_kernel`` looks every 0.1 s whether the kernel's process has ended,
  so it sleeps 0.1 s at least.

``make test`` starts twelve kernels (six under nbval, five in the runner's
tests, one in ``tests/test_kernels.py``), each on a worker that has nothing
else to do meanwhile: about 3 s of idle core time on two cores. Here the client is ready as soon as the kernel has
answered ``kernel_info`` on the shell channel and IOPub has delivered a message
(upstream's own proof that IOPub is connected, kept as it is), and the manager
looks every :data:`POLL` seconds. The start-up messages that may still come on
IOPub answer the ``kernel_info`` request: nbclient and nbval read only the
messages whose parent is their own request (``parent_header.msg_id``), so they
need no flush.

Used in: tools/run_notebooks.py (``AsyncKernelManager``, for nbclient),
conftest.py (``KernelManager``, for nbval); ``tests/test_kernels.py`` checks
both, and that the jupyter_client methods they override still exist.
"""
from __future__ import annotations

import math
import time
from queue import Empty

import jupyter_client
from jupyter_client.asynchronous import AsyncKernelClient as _AsyncClient
from jupyter_client.blocking import BlockingKernelClient as _BlockingClient
from jupyter_core.utils import ensure_async, run_sync
from traitlets import default

__all__ = ["KernelManager", "AsyncKernelManager", "POLL"]

#: Seconds between two looks at whether a stopping kernel's process has ended (jupyter_client: 0.1).
POLL = 0.005


async def _wait_for_ready(client, timeout: float | None = None) -> None:
    """jupyter_client's ``wait_for_ready`` for a kernel started by a manager, without the final 0.2 s of
    listening to a silent IOPub channel. Raises ``RuntimeError`` if the kernel dies or ``timeout`` passes."""
    deadline = time.monotonic() + (math.inf if timeout is None else timeout)
    while True:
        client.kernel_info()
        try:
            reply = await ensure_async(client.shell_channel.get_msg(timeout=1))
        except Empty:
            reply = None
        if reply is not None and reply["msg_type"] == "kernel_info_reply":
            try:                                   # IOPub delivers: it is connected and subscribed
                await ensure_async(client.iopub_channel.get_msg(timeout=0.2))
            except Empty:
                pass                               # not yet: ask again, as upstream does
            else:
                client._handle_kernel_info_reply(reply)     # the protocol version, as upstream
                return
        if not await client._async_is_alive():
            raise RuntimeError("Kernel died before replying to kernel_info")
        if time.monotonic() > deadline:
            raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")


class BlockingKernelClient(_BlockingClient):
    """jupyter_client's blocking client, ready without the IOPub flush (:func:`_wait_for_ready`)."""

    _async_wait_for_ready = _wait_for_ready
    wait_for_ready = run_sync(_wait_for_ready)


class AsyncKernelClient(_AsyncClient):
    """jupyter_client's asyncio client, ready without the IOPub flush (:func:`_wait_for_ready`)."""

    _async_wait_for_ready = _wait_for_ready
    wait_for_ready = _wait_for_ready


class _PromptShutdown:
    async def _async_wait(self, pollinterval: float = 0.1) -> None:
        await super()._async_wait(pollinterval=min(pollinterval, POLL))


class KernelManager(_PromptShutdown, jupyter_client.KernelManager):
    """jupyter_client's kernel manager, whose clients are ready without the IOPub flush and whose shutdown
    looks every :data:`POLL` seconds for the process's end. Used as jupyter_client's::

        km = KernelManager(kernel_name="python3")
        km.start_kernel()
        kc = km.client()                 # a BlockingKernelClient of this module
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        ...
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    """

    @default("client_factory")
    def _client_factory_default(self):
        return BlockingKernelClient


class AsyncKernelManager(_PromptShutdown, jupyter_client.AsyncKernelManager):
    """:class:`KernelManager` for asyncio (nbclient's ``kernel_manager_class``)."""

    @default("client_factory")
    def _client_factory_default(self):
        return AsyncKernelClient
