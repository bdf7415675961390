"""The recognition catalogue (认定目录, SPEC §7): data, not code. 层次 A–E, each with clauses (code,
text, required material types). Versioned: publishing a change makes a new version; applications
keep the version and the clause text they were filed under. The seeded catalogue is an example
(示例) until the center enters the official one (its admin page comes with 系统管理)."""
from collections.abc import Iterable

from sqlalchemy import func
from sqlmodel import Session, col, select

from db.engine import read_scope, session_scope
from db.models import LEVELS, MATERIAL_TYPES, CatalogueClause, CatalogueVersion, saved_id
from glrc_ui.actor import Actor
from glrc_ui.errors import FormErrors
from glrc_ui.services import audit

LEVEL_LABELS = {level: f'{level}类' for level in LEVELS}
EXAMPLE_MARK = '示例'
EXAMPLE_NOTE = '当前认定目录为系统示例，仅供演示和测试，正式认定以市人才服务中心发布的目录为准。'

# The example catalogue (clearly marked 示例 wherever it is shown). Material keys: db.models.MATERIAL_TYPES.
BASIC = 'id_card,diploma,contract,social_security'
EXAMPLE: dict[str, list[tuple[str, str, str]]] = {
    'A': [('A-1', '诺贝尔奖获得者，国家最高科学技术奖获得者（示例）', BASIC + ',achievements'),
          ('A-2', '中国科学院院士、中国工程院院士（示例）', BASIC + ',achievements')],
    'B': [('B-1', '国家杰出青年科学基金获得者，国家级重大人才工程入选者（示例）', BASIC + ',achievements'),
          ('B-2', '国家科学技术奖一等奖主要完成人（示例）', BASIC + ',achievements')],
    'C': [('C-1', '享受国务院政府特殊津贴专家（示例）', BASIC + ',title_cert,achievements'),
          ('C-2', '省级重大人才工程入选者，八桂学者（示例）', BASIC + ',achievements')],
    'D': [('D-1', '具有正高级专业技术职称的专业技术人才（示例）', BASIC + ',title_cert'),
          ('D-2', '博士研究生学历并取得博士学位，在桂林全职工作的人才（示例）', BASIC),
          ('D-3', '市级以上科学技术奖一等奖主要完成人（示例）', BASIC + ',achievements')],
    'E': [('E-1', '具有副高级专业技术职称的专业技术人才（示例）', BASIC + ',title_cert'),
          ('E-2', '硕士研究生学历并取得硕士学位，近三年业绩突出的青年人才（示例）', BASIC + ',achievements'),
          ('E-3', '高级技师，省级以上技能大师工作室领办人（示例）', 'id_card,contract,social_security,title_cert')],
}


def current_version(s: Session) -> CatalogueVersion | None:
    return s.exec(select(CatalogueVersion).order_by(col(CatalogueVersion.number).desc()).limit(1)).first()


def publish(s: Session, title: str, clauses: Iterable[tuple[str, str, str, Iterable[str]]], *,
            actor: Actor | None = None, is_example: bool = False, note: str | None = None) -> CatalogueVersion:
    """A new catalogue version from (层次, code, text, material keys) rows, in the caller's transaction.
    Earlier versions stay as they are (applications point at their clauses)."""
    rows = list(clauses)
    errors = {}
    for level, code, text, materials in rows:
        if level not in LEVELS:
            errors['申报层次'] = f'层次 {level} 不正确'
        if not code or not text:
            errors['认定依据'] = '每条认定依据都需要编号和内容'
        if unknown := [m for m in materials if m not in MATERIAL_TYPES]:
            errors['材料类型'] = '未知的材料类型：' + '、'.join(unknown)
    if errors:
        raise FormErrors(errors)
    number = (s.exec(select(func.max(CatalogueVersion.number))).one() or 0) + 1
    version = CatalogueVersion(number=number, title=title, is_example=is_example, note=note,
                               created_by=actor.user_id if actor else None)
    s.add(version)
    s.flush()
    for i, (level, code, text, materials) in enumerate(rows):
        s.add(CatalogueClause(version_id=saved_id(version), level=level, code=code, text=text,
                              materials=','.join(materials), sort_order=i))
    s.flush()
    audit.record(s, 'catalogue_published', actor=actor, obj=f'catalogue:{number}', detail=f'{len(rows)} clauses')
    return version


def seed_example(s: Session) -> CatalogueVersion:
    """The example catalogue, when there is none yet (start-up and seed-demo)."""
    if (version := current_version(s)) is not None:
        return version
    rows = [(level, code, text, materials.split(',')) for level, clauses in EXAMPLE.items()
            for code, text, materials in clauses]
    return publish(s, '桂林市高层次人才认定目录（示例）', rows, is_example=True, note=EXAMPLE_NOTE)


def ensure_seeded() -> None:
    with session_scope() as s:
        seed_example(s)


def materials_of(clause: CatalogueClause | None) -> list[str]:
    return [m for m in (clause.materials.split(',') if clause and clause.materials else []) if m in MATERIAL_TYPES]


def clause_label(clause: CatalogueClause) -> str:
    return f'{clause.code} {clause.text}'


def options() -> dict:
    """What the 申报 form offers: the current version's clauses per 层次, with their material types."""
    with read_scope() as s:
        version = current_version(s)
        if version is None:
            return {'version': None, 'is_example': False, 'levels': {}, 'clauses': {}, 'materials': {}}
        clauses = s.exec(select(CatalogueClause).where(CatalogueClause.version_id == version.id)
                         .order_by(col(CatalogueClause.level), col(CatalogueClause.sort_order))).all()
        by_level: dict[str, dict[int, str]] = {level: {} for level in LEVELS}
        for c in clauses:
            by_level.setdefault(c.level, {})[saved_id(c)] = clause_label(c)
        return {'version': version.number, 'title': version.title, 'is_example': version.is_example,
                'levels': {level: LEVEL_LABELS[level] for level in LEVELS if by_level.get(level)},
                'clauses': by_level, 'materials': {saved_id(c): materials_of(c) for c in clauses}}
