"""Uploads streamed to a temp file: moved into place when accepted, removed when refused."""
import pytest

from glrc_ui import config
from glrc_ui.actor import Actor
from glrc_ui.errors import ValidationError
from glrc_ui.pdf import simple_pdf
from glrc_ui.services import files

ACTOR = Actor(None, 'tester', 'unit')


def leftovers() -> list:
    root = config.current().upload_dir
    return sorted(p.name for p in (root / 'tmp').iterdir()) if (root / 'tmp').exists() else []


def test_an_accepted_temp_file_is_moved_into_the_store():
    tmp = files.temp_path()
    tmp.write_bytes(simple_pdf(['streamed']))
    stored = files.store(tmp, '证明.pdf', kind='licence', entity='unit', entity_id=1, actor=ACTOR)
    assert not tmp.exists() and leftovers() == []
    assert stored['size'] == len(simple_pdf(['streamed'])) and stored['mime'] == 'application/pdf'


@pytest.mark.parametrize('content', [b'<html><script>alert(1)</script></html>', b''])
def test_a_refused_temp_file_is_removed(content):
    tmp = files.temp_path()
    tmp.write_bytes(content)
    with pytest.raises(ValidationError):
        files.store(tmp, 'x.pdf', kind='licence', entity='unit', entity_id=1, actor=ACTOR)
    assert leftovers() == []


def test_only_files_from_the_upload_temp_dir_are_taken(tmp_path):
    outside = tmp_path / 'elsewhere.pdf'
    outside.write_bytes(simple_pdf(['x']))
    with pytest.raises(ValueError):
        files.store(outside, 'x.pdf', kind='licence', entity='unit', entity_id=1, actor=ACTOR)
    assert outside.exists()  # never moved or deleted
