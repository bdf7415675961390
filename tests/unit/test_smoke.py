from sqlalchemy import text

from db.engine import get_engine
from glrc_ui.services import orgs


def test_orgs_seeded_with_spec_list():
    names = {o['name'] for o in orgs.list_orgs()}
    assert {'秀峰区', '恭城瑶族自治县', '桂林高新区', '桂林经开区', '市教育局', '市人力资源和社会保障局'} <= names
    assert len(names) == 19 + 9


def test_database_answers():
    with get_engine().connect() as conn:
        assert conn.execute(text('SELECT 1')).scalar() == 1
