"""Review organisations (审核机构), seeded with SPEC §1."""
from sqlmodel import col, select

from db.engine import read_scope, session_scope
from db.models import Org

DISTRICTS = [
    ('秀峰区', '450302'), ('叠彩区', '450303'), ('象山区', '450304'), ('七星区', '450305'), ('雁山区', '450311'),
    ('临桂区', '450312'), ('阳朔县', '450321'), ('灵川县', '450323'), ('全州县', '450324'), ('兴安县', '450325'),
    ('永福县', '450326'), ('灌阳县', '450327'), ('龙胜各族自治县', '450328'), ('资源县', '450329'),
    ('平乐县', '450330'), ('荔浦市', '450381'), ('恭城瑶族自治县', '450332'),
    ('桂林高新区', None), ('桂林经开区', None),
]
DEPARTMENTS = ['市教育局', '市卫生健康委员会', '市科学技术局', '市工业和信息化局', '市国资委', '市农业农村局',
               '市文化广电和旅游局', '市住房和城乡建设局', '市人力资源和社会保障局']


def seed() -> int:
    """Insert the SPEC §1 organisations into an empty table (admins' later edits are kept)."""
    added = 0
    with session_scope() as s:
        if s.exec(select(Org.id)).first() is not None:
            return 0
        existing: set[str] = set()
        for order, (name, code) in enumerate(DISTRICTS):
            if name not in existing:
                s.add(Org(name=name, kind='district', admin_code=code, sort_order=order))
                added += 1
        for order, name in enumerate(DEPARTMENTS):
            if name not in existing:
                s.add(Org(name=name, kind='department', sort_order=100 + order))
                added += 1
    return added


def list_orgs(kind: str | None = None, enabled_only: bool = True) -> list[dict]:
    with read_scope() as s:
        query = select(Org).order_by(col(Org.sort_order), col(Org.id))
        if kind:
            query = query.where(Org.kind == kind)
        if enabled_only:
            query = query.where(col(Org.enabled).is_(True))
        return [{'id': o.id, 'name': o.name, 'kind': o.kind, 'admin_code': o.admin_code, 'enabled': o.enabled}
                for o in s.exec(query).all()]
