"""seed-demo: a realistic demo on a fresh data dir (orgs, staff, units in every state). Prints the logins."""
from sqlmodel import col, select
from stdnum.cn import uscc

from db.engine import read_scope, session_scope
from db.models import Application, Org, Person, Unit, User, saved_id
from glrc_ui import security, workflow
from glrc_ui.pdf import simple_pdf
from glrc_ui.services import accounts, persons, unit_review, units

DEMO_PASSWORD = 'Glrc@2026demo'
STAFF = [
    ('center', 'center_admin', '李主任（中心管理员）', None, True),
    ('center', 'center_staff', '王审核（中心）', None, False),
    ('reviewer', 'xiufeng_review', '张审核（秀峰区）', '秀峰区', False),
    ('reviewer', 'qixing_review', '陈审核（七星区）', '七星区', False),
    ('reviewer', 'jiaoyu_review', '刘审核（市教育局）', '市教育局', False),
]
# (account, name, type, org, final state)
UNITS = [
    ('unit_new', '桂林新启科技有限公司', '企业', '秀峰区', 'registered'),
    ('unit_guike', '桂林桂科电子有限公司', '企业', '秀峰区', 'pending_org'),
    ('unit_lijiang', '桂林漓江旅游服务有限公司', '企业', '七星区', 'pending_org'),
    ('unit_shiyan', '桂林市实验中学', '市直机关事业单位', '市教育局', 'pending_org'),
    ('unit_yaoye', '桂林三金药业配套有限公司', '企业', '七星区', 'pending_center'),
    ('unit_yiyuan', '桂林市第二中学', '市直机关事业单位', '市教育局', 'pending_center'),
    ('unit_tuihui', '桂林山水文化传媒有限公司', '企业', '秀峰区', 'returned'),
    ('unit_guangxi', '广西师范大学附属外国语学校', '中区直事业单位', '七星区', 'active'),
    ('unit_gaoxin', '桂林高新光电有限公司', '企业', '秀峰区', 'active'),
    ('unit_jiaoyan', '桂林市教育科学研究所', '市直机关事业单位', '市教育局', 'active'),
    ('unit_tingyong', '桂林旧城建材有限公司', '企业', '七星区', 'disabled'),
]
PATHS = {
    'registered': [], 'pending_org': ['submit'], 'pending_center': ['submit', 'approve'],
    'returned': ['submit', 'approve', 'return_'], 'active': ['submit', 'approve', 'approve'],
    'disabled': ['submit', 'approve', 'approve', 'disable'],
}
# (phone, name, unit account, final state, gender, birth) — persons in every state (SPEC §2.2)
PERSONS = [
    ('13977300001', '黄立新', 'unit_gaoxin', 'registered', '男', '1988-05-21'),
    ('13977300002', '韦秀梅', 'unit_gaoxin', 'pending_unit', '女', '1990-09-03'),
    ('13977300003', '莫海涛', 'unit_gaoxin', 'returned', '男', '1985-12-11'),
    ('13977300004', '覃丽华', 'unit_gaoxin', 'active', '女', '1982-02-27'),
    ('13977300005', '陆建国', 'unit_jiaoyan', 'active', '男', '1979-07-15'),
    ('13977300006', '蓝晓燕', 'unit_jiaoyan', 'pending_unit', '女', '1993-04-08'),
    ('13977300007', '廖志强', 'unit_guangxi', 'created', '男', '1987-10-30'),
    ('13977300008', '周文斌', 'unit_gaoxin', 'active', '男', '1980-03-16'),
    ('13977300009', '唐雪梅', 'unit_guangxi', 'active', '女', '1986-11-02'),
    ('13977300010', '罗志明', 'unit_jiaoyan', 'active', '男', '1976-06-25'),
]
# (applicant phone, 申报层次, final state) — recognition applications in every state, across units and orgs
APPLICATIONS = [
    ('13977300004', 'D', 'approved'), ('13977300004', 'C', 'pending_unit'),
    ('13977300005', 'D', 'pending_org'), ('13977300005', 'E', 'returned'),
    ('13977300008', 'D', 'pending_center'), ('13977300008', 'B', 'rejected'),
    ('13977300009', 'E', 'draft'), ('13977300009', 'D', 'resubmitted'),
    ('13977300010', 'E', 'approved'),
]
APP_PATHS = {
    'draft': [], 'pending_unit': ['submit'], 'pending_org': ['submit', 'unit'],
    'pending_center': ['submit', 'unit', 'org'], 'approved': ['submit', 'unit', 'org', 'center'],
    'returned': ['submit', 'unit', 'org_return'], 'rejected': ['submit', 'unit', 'org', 'center_reject'],
    'resubmitted': ['submit', 'unit', 'org_return', 'edit', 'submit'],
}
REVIEWER_OF = {'秀峰区': 'xiufeng_review', '七星区': 'qixing_review', '市教育局': 'jiaoyu_review'}


def credit_code(n: int) -> str:
    body = f'91450300MA5K{n:05d}'
    return body + uscc.calc_check_digit(body)


def seed() -> list[str]:
    """Idempotent: accounts that exist are kept as they are. Returns the logins as they are now."""
    with session_scope() as s:
        existing = set(s.exec(select(User.account)).all())
    for role, account, name, org, admin in STAFF:
        if account not in existing:
            accounts.create_staff(role, account, DEMO_PASSWORD, name, org, admin)
    for n, (account, name, unit_type, org, state) in enumerate(UNITS, start=1):
        if account not in existing:
            _demo_unit(n, account, name, unit_type, org, state)
    for n, (phone, name, unit_account, state, gender, born) in enumerate(PERSONS, start=1):
        if phone not in existing:
            _demo_person(n, phone, name, unit_account, state, gender, born)
    with read_scope() as s:
        filed = bool(s.exec(select(Application.id).limit(1)).first())
    if not filed:
        for phone, level, state in APPLICATIONS:
            _demo_application(phone, level, state)
    return logins()


ROLE_NAMES = {'center': '市人才服务中心', 'reviewer': '审核人员'}


def logins() -> list[str]:
    """The demo logins read from the database: names, organisations and states as they are now (a unit
    approved or an account disabled since seeding shows so), not as seed() first made them."""
    demo_accounts = [account for _, account, _, _, _ in STAFF] + [account for account, *_ in UNITS] \
        + [phone for phone, *_ in PERSONS]
    with read_scope() as s:
        users = {u.account: u for u in s.exec(select(User).where(col(User.account).in_(demo_accounts))).all()}
        orgs = {o.id: o.name for o in s.exec(select(Org)).all()}
        unit_ids = [u.unit_id for u in users.values() if u.unit_id is not None]
        person_rows = {p.user_id: p for p in s.exec(select(Person).where(
            col(Person.user_id).in_([u.id for u in users.values() if u.role == 'person']))).all()}
        unit_ids += [p.unit_id for p in person_rows.values()]
        unit_rows = {u.id: u for u in s.exec(select(Unit).where(col(Unit.id).in_(unit_ids))).all()}
    lines = [f'演示账号（密码均为 {DEMO_PASSWORD}）：']
    for account in demo_accounts:
        user = users.get(account)
        if user is None:
            continue
        if user.role in ROLE_NAMES:
            parts = [user.display_name, ROLE_NAMES[user.role]]
            parts += [orgs[user.org_id]] if user.org_id in orgs else []
            parts += ['系统管理员'] if user.is_admin else []
            kind = '管理人员'
        elif user.role == 'person':
            person = person_rows.get(saved_id(user))
            unit = unit_rows.get(person.unit_id) if person else None
            parts = [user.display_name, unit.name if unit else '', persons.MACHINE.label(person.state) if person else '']
            parts += ['首次登录须修改密码'] if user.must_change_password else []
            kind = '个人用户'
        else:
            unit = unit_rows.get(user.unit_id) if user.unit_id is not None else None
            parts = [unit.name, units.MACHINE.label(unit.state)] if unit else [user.display_name, '无单位信息']
            kind = '单位用户'
        parts += [] if user.status == 'active' else ['账号已停用']
        lines.append(f'  {kind}  {account:<16} ' + ' · '.join(parts))
    return lines


def _demo_person(n: int, phone: str, name: str, unit_account: str, state: str, gender: str, born: str) -> None:
    """A person under a demo unit, moved through the real services to its state."""
    from datetime import date

    from stdnum.cn import ric
    birth = date.fromisoformat(born)
    seq = (n * 2 + (1 if gender == '男' else 0)) % 1000
    body = f'450302{birth:%Y%m%d}{seq:03d}'
    id_number = body + ric.calc_check_digit(body + '?')
    unit_actor = _actor(unit_account)
    with session_scope() as s:
        unit_id = s.exec(select(Unit.id).join(User, col(User.unit_id) == Unit.id)
                         .where(User.account == unit_account)).one()
        assert unit_id is not None   # a demo unit made above
        if state == 'created':   # 新增单位人员: active at once, must change the initial password
            person = persons.create(s, phone, name, id_number, unit_id, security.hash_password(DEMO_PASSWORD),
                                    created_by_unit=True)
            workflow.record_creation(s, 'person', person, unit_actor, '单位新增人员')
            return
        persons.create(s, phone, name, id_number, unit_id, security.hash_password(DEMO_PASSWORD))
    if state == 'registered':
        return
    actor = _actor(phone)
    info = {'ethnicity': '壮族' if n % 2 else '汉族', 'political_status': '中共党员' if n % 3 == 0 else '群众',
            'email': f'demo{n}@example.com', 'education': '硕士研究生' if n % 2 else '大学本科',
            'degree': '硕士' if n % 2 else '学士', 'school': '广西师范大学' if n % 2 else '桂林理工大学',
            'major': '计算机科学与技术' if n % 2 else '土木工程', 'title': '工程师', 'position': '技术骨干',
            'work_start': '2012-07-01', 'address': f'桂林市七星区演示路{n}号'}
    detail = persons.save_info(actor, info, persons.my_person(actor)['version'])
    persons.submit(actor, detail['version'])
    if state == 'pending_unit':
        return
    version = persons.my_person(actor)['version']
    if state == 'returned':
        persons.review(unit_actor, detail['id'], 'return_', version, '请补充专业技术职称的取得时间')
    else:
        persons.review(unit_actor, detail['id'], 'approve', version, '信息属实，同意')


ACHIEVEMENTS = ('近五年主持完成省部级科研项目 2 项、市级项目 3 项；以第一作者发表 SCI 论文 6 篇；'
                '获授权发明专利 4 项，其中 2 项已实现产业化，新增产值约 3000 万元。（演示数据）')


def _demo_application(phone: str, level: str, state: str) -> None:
    """An application moved through the real services to its state, with evidence and opinions."""
    from glrc_ui.services import application_review, applications, catalogue
    actor = _actor(phone)
    with read_scope() as s:
        person = s.exec(select(Person).where(Person.user_id == actor.user_id)).one()
        unit_account = s.exec(select(User.account).where(User.unit_id == person.unit_id, User.role == 'unit')).one()
        org_name = s.exec(select(Org.name).join(Unit, col(Unit.org_id) == Org.id).where(Unit.id == person.unit_id)).one()
    clause_id = next(iter(catalogue.options()['clauses'][level]))
    values = {'level': level, 'clause_id': clause_id, 'specialty': '新材料研发 / 研发中心主任',
              'achievements': ACHIEVEMENTS if state != 'draft' else '', 'honors': '桂林市科学技术进步奖一等奖（2023 年）',
              'other_notes': '', 'pledge': state != 'draft'}
    d = applications.save(actor, None, values, 0)
    if state != 'draft':
        for i, m in enumerate(d['materials']):
            if not m['required']:
                continue
            if m['key'] == 'social_security' and level == 'B':
                applications.set_offline(actor, d['id'], m['key'], True, '单位涉密，纸质材料线下提交')
                continue
            applications.upload_evidence(actor, d['id'], m['key'], simple_pdf([f'{m["key"]} (demo)', f'No. {i}']),
                                         f'{m["label"]}.pdf')
    stages = {'unit': unit_account, 'org': REVIEWER_OF[org_name], 'center': 'center_staff'}
    for step in APP_PATHS[state]:
        d = applications.my_application(actor, d['id'])
        if step == 'submit':
            applications.submit(actor, d['id'], d['version'])
        elif step == 'edit':
            values['achievements'] = ACHIEVEMENTS + '2024 年新增授权发明专利 1 项。'
            d = applications.save(actor, d['id'], values, d['version'])
            applications.upload_evidence(actor, d['id'], 'other', simple_pdf(['patent (demo)']), '新增专利证书.pdf')
        elif step == 'org_return':
            application_review.review(_actor(stages['org']), d['id'], 'return_', d['version'],
                                      '请补充近三年业绩成果的证明材料（如项目验收报告）')
        elif step == 'center_reject':
            application_review.review(_actor('center_staff'), d['id'], 'reject', d['version'],
                                      '申报业绩与所选认定依据条件不符，不予认定')
        elif step == 'center':
            application_review.review(_actor('center_staff'), d['id'], 'approve', d['version'], '经审核，符合认定条件',
                                      {'granted_level': level})
        else:
            application_review.review(_actor(stages[step]), d['id'], 'approve', d['version'],
                                      '情况属实，同意推荐' if step == 'unit' else '材料齐全，同意')


def _actor(account: str):
    with session_scope() as s:
        user = s.exec(select(User).where(User.account == account)).one()
        return security.actor_of(user, None, s)


def _demo_unit(n: int, account: str, name: str, unit_type: str, org_name: str, state: str) -> None:
    phone = f'1390773{n:04d}'
    units.register(name, credit_code(n), f'操作员{n:02d}', phone, account, DEMO_PASSWORD, DEMO_PASSWORD)
    if state == 'registered':
        return
    unit_actor = _actor(account)
    with session_scope() as s:
        org = s.exec(select(Org).where(Org.name == org_name)).one()
        org_id, kind = org.id, org.kind
    data = {'name': name, 'credit_code': credit_code(n), 'unit_type': unit_type, 'allocation': kind,
            'org_id': org_id, 'industry': '信息技术' if unit_type == '企业' else '教育', 'address': f'桂林市{org_name}示例路{n}号',
            'legal_rep': f'法人{n:02d}', 'contact_phone': f'0773-28{n:05d}',
            'intro': f'{name}是一家位于桂林市的单位（演示数据）。'}
    detail = units.my_unit(unit_actor)
    detail = units.save_info(unit_actor, data, detail['version'])
    units.upload_licence(unit_actor, simple_pdf(['Business licence (demo data)', f'Unit No. {n:02d}']),
                         '营业执照.pdf', detail['version'])
    approvals = iter([REVIEWER_OF[org_name], 'center_staff'])
    for action in PATHS[state]:
        with session_scope() as s:
            unit = s.exec(select(Unit).where(Unit.credit_code == credit_code(n))).one()
            unit_id, version = saved_id(unit), unit.version
        if action == 'submit':
            units.submit(unit_actor, version)
        elif action == 'disable':
            workflow.apply('unit', unit_id, 'disable', _actor('center_admin'), version, '演示：单位已注销')
        elif action == 'return_':
            workflow.apply('unit', unit_id, 'return_', _actor('center_staff'), version,
                           '营业执照图片不清晰，请重新上传清晰的扫描件')
        else:
            unit_review.review(_actor(next(approvals)), unit_id, 'approve', version, '材料齐全，同意')
