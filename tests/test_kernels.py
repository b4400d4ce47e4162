"""tools/kernels.py: kernels ready without the IOPub flush, stopped without the 0.1 s poll; still working kernels."""
import asyncio
import inspect
from queue import Empty

import jupyter_client
import nbval.kernel
import pytest
from jupyter_client.client import KernelClient

from tools import kernels


def test_a_kernel_starts_runs_and_stops(monkeypatch):
    """A real kernel: ready, runs code, and at its shutdown the manager looks every POLL seconds, not 0.1."""
    polls, upstream = [], jupyter_client.KernelManager._async_wait

    async def wait(self, pollinterval=0.1):
        polls.append(pollinterval)
        await upstream(self, pollinterval)

    km = kernels.KernelManager(kernel_name="python3")
    km.start_kernel(extra_arguments=["--IPKernelApp.log_level=ERROR"])
    try:
        kc = km.client()
        assert isinstance(kc, kernels.BlockingKernelClient)
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        out = []
        reply = kc.execute_interactive("print(6 * 7)", timeout=60,
                                       output_hook=lambda m: out.append(m["content"].get("text", "")))
        assert reply["content"]["status"] == "ok" and "".join(out) == "42\n"
        kc.stop_channels()
    finally:
        monkeypatch.setattr(jupyter_client.KernelManager, "_async_wait", wait)
        km.shutdown_kernel(now=True)
    assert not km.is_alive()
    assert polls == [kernels.POLL]                               # jupyter_client itself: 0.1 s


class _Channel:
    """A channel that hands out its messages in turn (``None``: nothing came in time), then nothing; it records
    each read's timeout."""

    def __init__(self, *messages):
        self.messages, self.timeouts = list(messages), []

    def get_msg(self, timeout=None):
        self.timeouts.append(timeout)
        if not self.messages or self.messages[0] is None:
            self.messages[:1] = []
            raise Empty
        return self.messages.pop(0)


class _Client:
    def __init__(self, shell, iopub, alive=True):
        self.shell_channel, self.iopub_channel, self.alive = shell, iopub, alive
        self.requests, self.handled = 0, []

    def kernel_info(self):
        self.requests += 1

    def _handle_kernel_info_reply(self, msg):
        self.handled.append(msg)

    async def _async_is_alive(self):
        return self.alive


REPLY = {"msg_type": "kernel_info_reply"}


def test_ready_once_iopub_delivers_without_a_flush():
    """One IOPub message after the reply is the proof; the channel is not then read until it stays silent."""
    client = _Client(_Channel(REPLY), _Channel({"msg_type": "iopub_welcome"}, {"msg_type": "status"}))
    asyncio.run(kernels._wait_for_ready(client, timeout=5))
    assert client.handled == [REPLY] and client.requests == 1
    assert client.iopub_channel.timeouts == [0.2]           # upstream goes on reading until 0.2 s of silence


def test_not_ready_until_the_reply_and_iopub_come():
    """No reply in time, then a message that is not the reply, then a reply while IOPub is silent: each time
    kernel_info is asked again; ready at the reply that IOPub follows."""
    last = {"msg_type": "kernel_info_reply", "n": 2}
    client = _Client(_Channel(None, {"msg_type": "comm_info_reply"}, REPLY, last), _Channel(None, {"msg_type": "status"}))
    asyncio.run(kernels._wait_for_ready(client, timeout=5))
    assert client.requests == 4 and client.handled == [last]


def test_a_dead_kernel_or_the_timeout_raises():
    with pytest.raises(RuntimeError, match="died"):
        asyncio.run(kernels._wait_for_ready(_Client(_Channel(), _Channel(), alive=False), timeout=5))
    with pytest.raises(RuntimeError, match="didn't respond in 0 seconds"):
        asyncio.run(kernels._wait_for_ready(_Client(_Channel(), _Channel()), timeout=0))


def test_the_overridden_jupyter_client_methods_still_exist():
    """The overrides replace jupyter_client 8's methods by name: if a release renames one, this fails rather
    than the kernels silently waiting again."""
    assert "pollinterval" in inspect.signature(jupyter_client.KernelManager._async_wait).parameters
    for name in ("_async_wait_for_ready", "_handle_kernel_info_reply", "_async_is_alive", "kernel_info"):
        assert hasattr(KernelClient, name), name
    assert kernels.AsyncKernelManager(kernel_name="python3").client_factory is kernels.AsyncKernelClient


def test_nbval_starts_its_kernels_with_this_manager():
    """conftest.py puts the manager where nbval's ``start_new_kernel`` looks it up."""
    assert "KernelManager(" in inspect.getsource(nbval.kernel.start_new_kernel)
    assert nbval.kernel.start_new_kernel.__globals__["KernelManager"] is kernels.KernelManager
