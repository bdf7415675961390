"""SECURITY R4: a crash at any step of an upload leaves no row without its file; the sweeper cleans up."""
import pytest

from db.models import StoredFile
from glrc_ui import config
from glrc_ui.pdf import simple_pdf
from glrc_ui.services import files
from glrc_ui.services.audit import Actor
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
    files.sweep_orphans()  # what start-up does
    assert stored_files() == []
    assert list((config.current().upload_dir / 'tmp').iterdir()) == []


def test_the_sweeper_keeps_files_that_have_their_row():
    kept = files.store(simple_pdf(['keep']), 'k.pdf', kind='licence', entity='unit', entity_id=1, actor=ACTOR)
    files.sweep_orphans()
    assert len(stored_files()) == 1
    assert files.path_of(stored_files()[0]).read_bytes().startswith(b'%PDF-')
    assert kept['size'] > 0
