"""Per-address throttles on the `limits` library (SECURITY A4, O3): the limits, the app clock, and
memory that stays bounded however many addresses come by."""
import threading
import time
from datetime import timedelta

import pytest

from glrc_ui import security
from glrc_ui.security import IpThrottle


def wait_until(predicate, timeout: float = 5.0):
    """The storage expires keys on its own timer thread (10 ms after a hit): wait for it, bounded."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError('condition never became true')
        time.sleep(0.01)


@pytest.mark.parametrize('name, limit', [('ip_throttle', 30), ('sms_ip_limit', 30), ('register_ip_limit', 20)])
def test_each_throttle_allows_its_limit_per_ten_minutes_per_address(fake_clock, name, limit):
    throttle = getattr(security, name)
    assert (throttle.limit, throttle.window) == (limit, timedelta(minutes=10))
    assert [throttle.hit('198.51.100.1') for _ in range(limit)] == [False] * limit
    assert throttle.blocked('198.51.100.1')
    assert throttle.hit('198.51.100.1') is True                        # refused
    assert throttle.hit('198.51.100.2') is False                       # another address is not affected
    throttle.clear()
    assert not throttle.blocked('198.51.100.1') and throttle.hit('198.51.100.1') is False


def test_fail_counts_without_refusing_and_blocked_counts_nothing(fake_clock):
    throttle = IpThrottle(limit=3)
    for _ in range(10):
        assert not throttle.blocked('203.0.113.5')                     # asking is free
    for _ in range(2):
        throttle.fail('203.0.113.5')
    assert not throttle.blocked('203.0.113.5')
    throttle.fail('203.0.113.5')
    assert throttle.blocked('203.0.113.5')
    throttle.fail('203.0.113.5')                                       # more failures keep it blocked
    assert throttle.blocked('203.0.113.5')


@pytest.mark.parametrize('ip', [None, ''])
def test_requests_without_an_address_are_neither_counted_nor_refused(fake_clock, ip):
    throttle = IpThrottle(limit=1)
    for _ in range(3):
        throttle.fail(ip)
        assert throttle.hit(ip) is False
    assert not throttle.blocked(ip) and throttle.tracked() == 0


def test_windows_follow_the_app_clock(fake_clock):
    """Tests move time with the fake clock; the library's storage must see the same time. (The fake
    clock starts on a window boundary, so all hits fall into one window of the sliding-window counter.)"""
    throttle = IpThrottle(limit=3)
    assert [throttle.hit('203.0.113.5') for _ in range(4)] == [False, False, False, True]
    fake_clock.advance(minutes=9, seconds=59)
    assert throttle.blocked('203.0.113.5') and throttle.hit('203.0.113.5') is True
    fake_clock.advance(seconds=2)                                      # the window with the hits is over
    assert not throttle.blocked('203.0.113.5')
    fake_clock.advance(minutes=10)                                     # and its weight in the next one too
    assert [throttle.hit('203.0.113.5') for _ in range(4)] == [False, False, False, True]


def test_expired_addresses_are_forgotten(fake_clock):
    throttle = IpThrottle()
    for n in range(5000):
        throttle.fail(f'10.{n // 65536}.{n // 256 % 256}.{n % 256}')
    assert throttle.tracked() == 5000
    fake_clock.advance(minutes=21)                                     # two windows after the last event

    def only_the_probe_is_left() -> bool:
        throttle.fail('192.0.2.1')                                     # any hit schedules the expiry run
        return throttle.tracked() == 1
    wait_until(only_the_probe_is_left)


def test_a_flood_of_distinct_addresses_within_one_window_stays_capped(fake_clock):
    throttle = IpThrottle(limit=3, max_keys=100)
    most = 0
    for n in range(1000):
        assert throttle.hit(f'2001:db8::{n:x}') is False
        most = max(most, throttle.tracked())
    assert most <= 100


def test_parallel_hits_never_let_more_than_the_limit_through(fake_clock):
    throttle = IpThrottle(limit=30)
    allowed = []
    start = threading.Barrier(8)

    def worker():
        start.wait()
        allowed.extend(not throttle.hit('203.0.113.9') for _ in range(10))
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(allowed) == 30
