"""Per-address throttles on the `limits` library (SECURITY A4, O3): the limits, the app clock, and
memory that stays bounded however many addresses come by."""
import os
import threading
import time
import uuid
from datetime import timedelta

import pytest
from limits.storage import MemoryStorage

from glrc_ui import config, security
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


# ---- several processes: GLRC_REDIS_URL (README "Several processes") ---------------------------------
REDIS_URL = os.environ.get('GLRC_TEST_REDIS_URL', '').strip() or 'redis://127.0.0.1:6379/0'


@pytest.fixture
def redis_limits(monkeypatch):
    """GLRC_REDIS_URL set, with a key prefix of this test's own (deleted afterwards)."""
    redis = pytest.importorskip('redis')
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        client.close()
        if os.environ.get('CI') == 'true':   # CI machines run Redis: a skip there would hide a failure
            pytest.fail(f'no Redis at {REDIS_URL}')
        pytest.skip(f'no Redis at {REDIS_URL} (tests/e2e/test_scale_out_e2e.py covers it with a Redis of its own)')
    prefix = f'glrc-unit-{uuid.uuid4().hex[:8]}:'
    monkeypatch.setenv('GLRC_REDIS_URL', REDIS_URL)
    monkeypatch.setenv('GLRC_REDIS_KEY_PREFIX', prefix)
    yield client, prefix
    keys = list(client.scan_iter(match=f'{prefix}*'))
    if keys:
        client.delete(*keys)
    client.close()


def test_with_redis_throttles_of_one_name_count_together_and_others_apart(redis_limits):
    """Two processes are two IpThrottle objects of the same name: they share one count in Redis."""
    client, prefix = redis_limits
    here, there = IpThrottle(limit=3, name='login_ip'), IpThrottle(limit=3, name='login_ip')
    sms = IpThrottle(limit=3, name='sms_ip')   # same limit and window, its own keys
    assert [here.hit('203.0.113.7'), there.hit('203.0.113.7'), here.hit('203.0.113.7')] == [False] * 3
    assert there.blocked('203.0.113.7') and there.hit('203.0.113.7') is True
    assert not sms.blocked('203.0.113.7') and not there.blocked('203.0.113.8')
    assert all(key.decode().startswith(f'{prefix}login_ip:') for key in client.scan_iter(match=f'{prefix}login_ip*'))
    assert here.tracked() >= 1
    there.clear()
    assert not here.blocked('203.0.113.7') and here.tracked() == 0


def test_without_redis_url_the_throttles_count_in_memory(monkeypatch, fake_clock):
    monkeypatch.delenv('GLRC_REDIS_URL', raising=False)
    throttle = IpThrottle(limit=1, name='login_ip')
    throttle.fail('203.0.113.5')
    assert throttle.blocked('203.0.113.5') and isinstance(throttle._storage, MemoryStorage)


def test_a_redis_that_does_not_answer_lets_requests_through_and_logs(monkeypatch, caplog):
    pytest.importorskip('redis')
    monkeypatch.setenv('GLRC_REDIS_URL', 'redis://127.0.0.1:1/0')   # nothing listens on port 1
    throttle = IpThrottle(limit=1, name='login_ip')
    assert throttle.hit('203.0.113.5') is False and throttle.hit('203.0.113.5') is False
    assert not throttle.blocked('203.0.113.5')
    assert sum('无法访问 Redis' in r.getMessage() for r in caplog.records) == 1   # once a minute, not per request


def test_a_redis_url_of_another_scheme_stops_the_start(monkeypatch):
    monkeypatch.setenv('GLRC_REDIS_URL', 'http://user:pw@127.0.0.1:6379')
    with pytest.raises(SystemExit) as stop:
        config.redis_url()
    assert 'GLRC_REDIS_URL' in str(stop.value) and 'pw' not in str(stop.value)
