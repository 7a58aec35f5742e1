"""``RateLimiter.spend`` (every cached answer's charge) answers and charges exactly as ``take`` does."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from syndicate.config import RateLimit
from syndicate.web.ratelimit import RateLimiter, Verdict


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


steps = st.lists(
    st.tuples(
        st.sampled_from(["a", "b"]),  # who
        st.sampled_from([0.25, 0.5, 1.0, 2.0]),  # cost
        st.floats(min_value=0.0, max_value=5.0),  # seconds since the step before
        st.sampled_from([None, 1.0]),  # wait_for
    ),
    max_size=40,
)


@given(st.floats(min_value=0.01, max_value=50.0), st.integers(min_value=1, max_value=20), steps, st.integers(1, 3))
def test_spend_answers_and_charges_as_take(
    rate: float, burst: int, plan: list[tuple[str, float, float, float | None]], size: int
) -> None:
    limit = RateLimit(rate=rate, burst=float(burst))
    clocks = Clock(), Clock()
    taking, spending = RateLimiter(clocks[0], max_clients=size), RateLimiter(clocks[1], max_clients=size)
    for who, cost, wait, wait_for in plan:
        for clock in clocks:
            clock.now += wait
        verdict = taking.take(who, limit, cost, wait_for=wait_for)
        spent = spending.spend(who, limit, cost, wait_for=wait_for)
        if verdict.allowed:
            assert spent == verdict.lines()
        else:
            assert isinstance(spent, Verdict) and spent == verdict
        assert [(k, b.tokens, b.stamp) for k, b in spending.buckets.items()] == [
            (k, b.tokens, b.stamp) for k, b in taking.buckets.items()
        ]
