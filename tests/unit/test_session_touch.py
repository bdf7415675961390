"""A session in use is marked (last_seen_at) at most every TOUCH_EVERY, by the app clock, and answered
from a read in between; its validity is still checked at every event (SECURITY S3, issue 11 item 4)."""
from contextlib import contextmanager
from datetime import timedelta

import pytest

from glrc_ui import security
from glrc_ui.security import TOUCH_EVERY
from tests import factories as f


@pytest.fixture(autouse=True)
def _fast(monkeypatch):
    f.cheap_hashing(monkeypatch)


def last_seen(user_id: int):
    [row] = f.sessions_of(user_id)
    return row.last_seen_at


def test_events_within_the_touch_interval_only_read(fake_clock, monkeypatch):
    user_id = f.staff('staff_one')
    token = f.login('staff_one')
    marked = last_seen(user_id)

    @contextmanager
    def refused():
        raise AssertionError('resolve_session opened a write transaction')
        yield
    with monkeypatch.context() as m:
        m.setattr(security, 'session_scope', refused)
        for _ in range(5):
            fake_clock.advance(seconds=5)
            assert security.resolve_session(token) is not None
    assert last_seen(user_id) == marked                                # no write: the row is as it was


def test_the_session_is_marked_once_the_interval_has_passed(fake_clock):
    user_id = f.staff('staff_one')
    token = f.login('staff_one')
    marked = last_seen(user_id)
    fake_clock.advance(seconds=TOUCH_EVERY.total_seconds() - 1)
    assert security.resolve_session(token) is not None
    assert last_seen(user_id) == marked
    fake_clock.advance(seconds=1)
    assert security.resolve_session(token) is not None
    assert last_seen(user_id) == marked + TOUCH_EVERY


def test_a_check_without_touch_never_marks(fake_clock):
    user_id = f.staff('staff_one')
    token = f.login('staff_one')
    marked = last_seen(user_id)
    fake_clock.advance(minutes=5)
    assert security.resolve_session(token, touch=False) is not None
    assert last_seen(user_id) == marked


def test_steady_use_keeps_a_staff_session_alive_past_the_idle_limit(fake_clock):
    f.staff('staff_one')
    token = f.login('staff_one')
    step = TOUCH_EVERY / 3
    elapsed = timedelta(0)
    while elapsed < timedelta(minutes=40):                             # clicks every 10 s for 40 min
        fake_clock.advance(seconds=step.total_seconds())
        elapsed += step
        assert security.resolve_session(token) is not None
    fake_clock.advance(minutes=15, seconds=1)                           # then 15 min without a click
    assert security.resolve_session(token) is None


def test_a_revoked_session_is_refused_at_once_within_the_interval(fake_clock):
    f.staff('staff_one')
    token = f.login('staff_one')
    fake_clock.advance(seconds=1)
    assert security.resolve_session(token) is not None
    security.end_session(token, 'logout')                                # e.g. 退出登录 in another tab
    assert security.resolve_session(token) is None                       # same instant: no grace
    assert security.resolve_session(token, touch=False) is None


def test_a_disabled_account_is_refused_at_once_within_the_interval(fake_clock):
    user_id = f.staff('staff_one')
    token = f.login('staff_one')
    fake_clock.advance(seconds=1)
    assert security.resolve_session(token) is not None
    f.set_user(user_id, status='disabled')
    assert security.resolve_session(token) is None
    [row] = f.sessions_of(user_id)
    assert row.revoked_reason == 'disabled'                              # and recorded as ended


def test_an_expired_session_is_ended_and_recorded(fake_clock):
    user_id = f.staff('staff_one')
    token = f.login('staff_one')
    fake_clock.advance(minutes=15, seconds=1)
    assert security.resolve_session(token) is None
    [row] = f.sessions_of(user_id)
    assert row.revoked_reason == 'idle_timeout'
    assert [r.result for r in f.audit_rows('session_expired')] == ['idle_timeout']


def test_a_refused_write_still_resolves_a_session_due_for_marking(fake_clock, monkeypatch):
    """The database refuses writes (full disk): the page still opens, read only."""
    import sqlite3

    from sqlalchemy.exc import OperationalError
    f.staff('staff_one')
    token = f.login('staff_one')
    fake_clock.advance(minutes=1)

    @contextmanager
    def full_disk():
        raise OperationalError('BEGIN', {}, sqlite3.OperationalError('database or disk is full'))
        yield
    monkeypatch.setattr(security, 'session_scope', full_disk)
    assert security.resolve_session(token) is not None


def _locked(monkeypatch):
    import sqlite3

    from sqlalchemy.exc import OperationalError

    @contextmanager
    def busy():
        raise OperationalError('BEGIN IMMEDIATE', {}, sqlite3.OperationalError('database is locked'))
        yield
    monkeypatch.setattr(security, 'session_scope', busy)


def test_a_busy_database_skips_the_mark_but_not_the_click(fake_clock, monkeypatch):
    """Hundreds of clerks at work: the write lock is busy; the mark is best effort, the session was
    checked in the read, so the event goes on (it was refused as 操作未能完成 before)."""
    user_id = f.staff('staff_one')
    token = f.login('staff_one')
    marked = last_seen(user_id)
    fake_clock.advance(minutes=1)
    with monkeypatch.context() as m:
        _locked(m)
        actor = security.resolve_session(token)
    assert actor is not None and actor.user_id == user_id
    assert last_seen(user_id) == marked                                  # marked at a later event


def test_a_busy_database_never_lets_an_ended_session_through(fake_clock, monkeypatch):
    f.staff('staff_one')
    token = f.login('staff_one')
    fake_clock.advance(minutes=15, seconds=1)                            # idle: must end, needs a write
    with monkeypatch.context() as m:
        _locked(m)
        with pytest.raises(Exception, match='locked'):
            security.resolve_session(token)
    assert security.resolve_session(token) is None
