"""The sliding window behind flood protection, web-chat limits and login attempts."""

from bot.ratelimit import SlidingWindow


def test_allows_up_to_the_limit_then_refuses_until_the_window_moves() -> None:
    w = SlidingWindow(limit=2, window=10)
    assert w.allow("a", now=0) and w.allow("a", now=1)
    assert not w.allow("a", now=2)
    assert w.allow("b", now=2)  # keys are independent
    assert w.allow("a", now=10.5)  # the first event left the window


def test_full_does_not_count() -> None:
    w = SlidingWindow(limit=1, window=10)
    assert not w.full("k", now=0)
    w.hit("k", now=0)
    assert w.full("k", now=1) and w.full("k", now=1)
    assert not w.full("k", now=11)
