"""`upstream.recovered` only when an upstream really answered: the only upstream, still down,
comes out of its short backoff by itself, and that must not read as recovered (a false
"the internet is back" to the administrators)."""

from __future__ import annotations

from filterd.events.conditions import UpstreamWatch
from filterd.events.kinds import UPSTREAM_ALL_FAILING, UPSTREAM_RECOVERED
from filterd.forward.upstream import MAX_BACKOFF, Health


def test_recovered_needs_a_real_answer_not_the_end_of_a_backoff():
    emitted: list[str] = []
    watch = UpstreamWatch(lambda kind, **_: emitted.append(kind.name))
    health = Health()
    now = 100.0
    for i in range(6):  # names time out one after another: backoff
        health.failed(now, f"name{i}".encode())
    watch.check({"127.0.0.1:53": health.answering(now)})
    assert emitted == [UPSTREAM_ALL_FAILING.name]

    later = now + MAX_BACKOFF + 1  # the backoff is over, and nothing has answered
    assert health.usable(later)
    watch.check({"127.0.0.1:53": health.answering(later)})
    assert emitted == [UPSTREAM_ALL_FAILING.name], "still down: no recovered event"

    health.succeeded(later + 1)  # a real reply
    watch.check({"127.0.0.1:53": health.answering(later + 1)})
    assert emitted == [UPSTREAM_ALL_FAILING.name, UPSTREAM_RECOVERED.name]
