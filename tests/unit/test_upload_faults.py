"""SECURITY R4: a crash at any step of an upload leaves no row without its file; the sweeper cleans up."""
from datetime import timedelta

import pytest

from db.models import StoredFile
from glrc_ui import config
from glrc_ui.actor import Actor
from glrc_ui.pdf import simple_pdf
from glrc_ui.services import files
from tests import factories as f

ACTOR = Actor(None, 'tester', 'unit')


class Crash(Exception):
    pass


def stored_files() -> list[str]:
    root = config.current().upload_dir
    return sorted(p.name for p in root.iterdir() if p.is_file()) if root.exists() else []


@pytest.mark.parametrize('step', ['written', 'renamed'])
def test_a_crash_at_each_step_leaves_no_row_and_the_sweeper_cleans_up(monkeypatch, step):
    def crash(at: str) -> None:
        if at == step:
            raise Crash(at)
    monkeypatch.setattr(files, 'fault_hook', crash)
    with pytest.raises(Crash):
        files.store(simple_pdf(['x']), 'x.pdf', kind='licence', entity='unit', entity_id=1, actor=ACTOR)
    assert f.count_rows(StoredFile) == 0  # never a row without its file
    monkeypatch.setattr(files, 'fault_hook', None)
    files.sweep_orphans(in_flight=timedelta(0))  # what start-up does
    assert stored_files() == []
    assert list((config.current().upload_dir / 'tmp').iterdir()) == []


def test_the_sweeper_keeps_files_that_have_their_row():
    kept = files.store(simple_pdf(['keep']), 'k.pdf', kind='licence', entity='unit', entity_id=1, actor=ACTOR)
    files.sweep_orphans(in_flight=timedelta(0))
    assert len(stored_files()) == 1
    assert files.path_of(stored_files()[0]).read_bytes().startswith(b'%PDF-')
    assert kept['size'] > 0


def test_a_replaced_licence_keeps_its_bytes_through_the_grace_period_then_the_sweeper_removes_them(fake_clock):
    unit_id, account = f.unit_filled(71)
    op = f.actor_of_account(account)
    from glrc_ui.services import units
    first = f.unit_get(unit_id).licence_file_id
    units.upload_licence(op, simple_pdf(['second']), 'b.pdf', units.my_unit(op)['version'])
    second = f.unit_get(unit_id).licence_file_id
    assert second != first and len(stored_files()) == 2
    fake_clock.advance(minutes=59)
    files.sweep_orphans(in_flight=timedelta(0))
    assert len(stored_files()) == 2                       # a reviewer may still have the old one open
    fake_clock.advance(minutes=2)
    files.sweep_orphans(in_flight=timedelta(0))
    with f.session_scope() as s:
        kept = s.get(StoredFile, second).stored_name
        assert s.get(StoredFile, first).deleted_at is not None    # the row stays, as history
    assert stored_files() == [kept]


def test_a_stale_licence_upload_leaves_no_bytes_and_no_row():
    unit_id, account = f.unit_filled(72, licence=False)
    op = f.actor_of_account(account)
    from glrc_ui.errors import ValidationError
    from glrc_ui.services import units
    stale = units.my_unit(op)['version'] - 1
    with pytest.raises(ValidationError, match='状态已变化'):
        units.upload_licence(op, simple_pdf(['late']), 'late.pdf', stale)
    assert stored_files() == [] and f.count_rows(StoredFile) == 0
    assert f.unit_get(unit_id).licence_file_id is None


def test_a_failure_after_the_row_was_added_removes_the_file_with_the_row(monkeypatch):
    from glrc_ui.services import units
    unit_id, account = f.unit_filled(73, licence=False)
    op = f.actor_of_account(account)

    def broken_detail(*args, **kwargs):
        raise Crash('after the row')
    monkeypatch.setattr(units, 'detail', broken_detail)
    with pytest.raises(Crash):
        units.upload_licence(op, simple_pdf(['x']), 'x.pdf', f.unit_get(unit_id).version)
    assert stored_files() == [] and f.count_rows(StoredFile) == 0
