"""Transactions compose: inner service calls join the caller's transaction; reads take no write lock."""
import threading

import pytest
from sqlalchemy import text
from sqlmodel import select

from db.engine import get_engine, in_transaction, read_scope, session_scope
from db.models import Notification, Org
from glrc_ui.services import notifications
from tests import factories as f


def test_a_read_inside_a_write_transaction_joins_it_and_sees_its_rows():
    """notifications.unread_count inside an open write scope: before, a second BEGIN IMMEDIATE on
    SQLite waited for the busy timeout and failed with "database is locked"; on PostgreSQL it ran
    as a separate transaction that could not see the uncommitted row."""
    user_id = f.staff('tx_reader')
    with session_scope() as s:
        notifications.notify(s, user_id, '标题', '内容')
        s.flush()
        assert notifications.unread_count(user_id) == 1      # the same transaction: sees the new row
        with read_scope() as inner:
            assert inner is s
    assert notifications.unread_count(user_id) == 1            # committed once, by the outer scope


def test_an_inner_scope_does_not_commit_on_its_own():
    user_id = f.staff('tx_inner')
    with pytest.raises(RuntimeError):
        with session_scope() as outer:
            with session_scope() as inner:
                assert inner is outer
                notifications.notify(inner, user_id, '内层', '内层写入')
            raise RuntimeError('the outer action fails after the inner call returned')
    assert notifications.unread_count(user_id) == 0            # rolled back with the outer one
    assert not in_transaction()


def test_a_write_inside_a_read_transaction_is_refused():
    with read_scope():
        with pytest.raises(RuntimeError, match='read_scope'):
            with session_scope():
                pass
    assert not in_transaction()


def test_after_commit_runs_once_after_the_outermost_commit_and_after_rollback_only_on_rollback():
    calls = []
    with session_scope() as outer:
        with session_scope() as inner:
            assert inner is outer
            inner.info.setdefault('after_commit', []).append(lambda: calls.append(('commit', in_transaction())))
            inner.info.setdefault('after_rollback', []).append(lambda: calls.append('rollback'))
        assert calls == []                                        # not yet: the outer scope is still open
    assert calls == [('commit', False)]
    with pytest.raises(ValueError):
        with session_scope() as s:
            s.info.setdefault('after_rollback', []).append(lambda: calls.append(('rollback', in_transaction())))
            raise ValueError
    assert calls[-1] == ('rollback', False)                        # run outside any transaction


def test_a_reader_does_not_wait_for_an_open_writer():
    """SQLite: a read transaction begins DEFERRED, so it reads (WAL) while another thread holds the
    write lock; a writer would wait. PostgreSQL readers never wait for writers."""
    holding, release = threading.Event(), threading.Event()

    def writer():
        with session_scope() as s:
            s.add(Org(name='写事务中的机构', kind='district'))
            s.flush()
            holding.set()
            release.wait(10)
    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert holding.wait(10)
        with read_scope() as s:
            names = set(s.exec(select(Org.name)).all())
        assert '秀峰区' in names and '写事务中的机构' not in names   # committed rows only, no wait
    finally:
        release.set()
        thread.join(10)


def test_sqlite_readers_begin_deferred_and_writers_immediate():
    """On PostgreSQL the driver begins transactions itself: no BEGIN statement of ours at all."""
    with f.sql_log() as seen:
        with read_scope() as s:
            s.execute(text('SELECT 1'))
        with session_scope() as s:
            s.execute(text('SELECT 2'))
    expected = ['BEGIN', 'BEGIN IMMEDIATE'] if get_engine().dialect.name == 'sqlite' else []
    assert [x for x in seen if x.startswith('BEGIN')] == expected


def test_notifications_written_in_a_rolled_back_action_are_gone():
    user_id = f.staff('tx_gone')
    with pytest.raises(LookupError):
        with session_scope() as s:
            notifications.notify(s, user_id, '标题', '内容')
            raise LookupError
    assert f.count_rows(Notification) == 0
