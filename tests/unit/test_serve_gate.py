"""The model queue of `localrag serve`: first come first served, bounded, refusals say when to retry."""

from __future__ import annotations

import asyncio

import pytest

from localrag.errors import ConfigError
from localrag.serve.gate import ModelGate, QueueFullError
from localrag.serve.http import check_binding, is_loopback


def test_queue_is_bounded_and_served_in_order() -> None:
    async def scenario() -> list[str]:
        gate = ModelGate(queue_size=2)
        order: list[str] = []

        async def job(name: str) -> None:
            async with gate.reserve():
                order.append(name)
                await asyncio.sleep(0.01)

        first = asyncio.create_task(job("a"))
        await asyncio.sleep(0)  # "a" holds the model
        waiting = [asyncio.create_task(job(n)) for n in ("b", "c")]
        await asyncio.sleep(0)
        assert (gate.running, gate.waiting) == (1, 2)
        with pytest.raises(QueueFullError) as refused:
            gate.reserve()
        assert refused.value.retry_after >= 1 and "busy" in str(refused.value)
        await asyncio.gather(first, *waiting)
        assert (gate.running, gate.waiting) == (0, 0)
        gate.reserve().release()  # a ticket given back unused frees its place
        assert gate.waiting == 0
        return order

    assert asyncio.run(scenario()) == ["a", "b", "c"]


def test_release_is_idempotent_and_cancelled_waiters_leave() -> None:
    async def scenario() -> None:
        gate = ModelGate(queue_size=1)
        holder = gate.reserve()
        await holder.acquire()
        waiter = gate.reserve()
        task = asyncio.create_task(waiter.__aenter__())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        holder.release()
        holder.release()
        assert (gate.running, gate.waiting) == (0, 0)

    asyncio.run(scenario())


def test_only_loopback_runs_without_a_token() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example")
    check_binding("127.0.0.1", "")
    check_binding("0.0.0.0", "s3cret-0123456789")
    with pytest.raises(ConfigError, match="--token"):
        check_binding("0.0.0.0", "")


@pytest.mark.parametrize(("token", "why"), [("a", "shorter than 16 characters"), (" ", "only spaces"),
                                            (" " * 20, "only spaces"), ("abcdefghijklmno", "shorter than 16"),
                                            (" s3cret-0123456789", "spaces at its ends")])
@pytest.mark.parametrize("host", ["0.0.0.0", "127.0.0.1"])
def test_a_token_no_client_can_send_or_anyone_could_guess_is_refused(token: str, why: str, host: str) -> None:
    """`serve --host 0.0.0.0` started with LOCALRAG_API_TOKEN=a, and with " ", which no client can send."""
    with pytest.raises(ConfigError, match=why) as refused:
        check_binding(host, token)
    assert 'python -c "import secrets; print(secrets.token_urlsafe())"' in str(refused.value)
    check_binding(host, "0123456789abcdef")  # 16 characters will do
