"""The basics a person would check first: an answer, from the upstream, then from the cache."""

from tests.support.dns_client import addresses, ask, assert_still_serving, rcode
from tests.support.scripted_upstream import default_a


def test_answers_from_upstream_then_cache(filterd, upstream):
    upstream.clear_log()
    first = ask(filterd.port, "www.Smoke-Test.example")
    second = ask(filterd.port, "www.smoke-test.example")
    assert rcode(first) == "NOERROR"
    assert addresses(first) == [default_a("www.smoke-test.example")]
    assert addresses(second) == addresses(first)
    assert str(first.q.qname) == "www.Smoke-Test.example."  # question echoed as asked
    asked = [q for q in upstream.queries() if q["name"].lower() == "www.smoke-test.example"]
    assert len(asked) == 1, "the second query must come from the cache"
    assert second.rr[0].ttl <= first.rr[0].ttl
    assert_still_serving(filterd.port)
