"""Small factories shared by the tests: users, logins, audit rows, outbox lines, sample files.

Users are made the way the app makes them: staff through `accounts.create_staff` (the CLI's service),
persons and units as User rows whose hash comes from `security.hash_password`. Production argon2
costs ~90 ms per hash or check: tests that log in often call `cheap_hashing(monkeypatch)`, and a
person/unit row reuses one hash per password."""
import asyncio
import base64
import json
import struct
import time
import zlib
from contextlib import contextmanager
from functools import lru_cache

from passlib.context import CryptContext
from sqlalchemy import text
from sqlmodel import select

from db.engine import get_engine, session_scope
from db.models import AuditLog, AuthSession, User
from glrc_ui import config, security
from glrc_ui.services import accounts

REAL_PWD = security.PWD            # the production hashing context, before any test swaps it
CHEAP_PWD = CryptContext(schemes=['argon2'], argon2__type='ID', argon2__memory_cost=256, argon2__rounds=1,
                         argon2__parallelism=1)

PASSWORD = 'Gl#rc2026Pw'          # meets the policy (A1) and is not a common password
NEW_PASSWORD = 'N3w!Secret-2026'
IP = '203.0.113.7'


def cheap_hashing(monkeypatch) -> None:
    """Argon2id at minimum cost for tests that log in many times (lockout, throttle, pages).

    Verification cost follows the parameters inside a stored hash, so new hashes and the dummy hash
    for unknown accounts become cheap; the A3 test checks the production context (REAL_PWD) itself."""
    monkeypatch.setattr(security, 'PWD', CHEAP_PWD)
    monkeypatch.setattr(security, '_DUMMY_HASH', None)
    cached_hash.cache_clear()


@lru_cache(maxsize=16)
def cached_hash(password: str) -> str:
    return security.hash_password(password)


def staff(account: str = 'center_one', *, role: str = 'center', password: str = PASSWORD, name: str = '测试中心人员',
          org: str | None = None, admin: bool = False, must_change: bool = False) -> int:
    """A reviewer (default org 秀峰区) or center account through the create-staff service."""
    if role == 'reviewer' and org is None:
        org = '秀峰区'
    return accounts.create_staff(role, account, password, name, org, admin, must_change=must_change)


def person(phone: str = '13800138000', *, password: str = PASSWORD, name: str = '张三', status: str = 'active',
           must_change: bool = False, state: str = 'active') -> int:
    """A person account (login = phone) with its person row, as if registered and approved (`state`),
    in an active unit made for the purpose. Returns the user id."""
    user_id = _user_row(role='person', account=phone, phone=phone, display_name=name, password=password,
                        status=status, must_change_password=must_change)
    add_person_row(user_id, phone, name, state)
    return user_id


def add_person_row(user_id: int, phone: str, name: str, state: str = 'active') -> int:
    """The person row of a person login: a valid 身份证号 derived from the phone, in the fixture unit."""
    from datetime import date, timedelta

    from stdnum.cn import ric

    from db.models import Person, Unit
    born = date(1960, 1, 1) + timedelta(days=int(phone[-5:]) % 15000)
    body = f'450302{born:%Y%m%d}{phone[-3:]}'
    with session_scope() as s:
        unit = s.exec(select(Unit).where(Unit.credit_code == FIXTURE_UNIT_CODE)).first()
        if unit is None:
            unit = Unit(name='桂林测试人员所在单位', credit_code=FIXTURE_UNIT_CODE, state='active')
            s.add(unit)
            s.flush()
        row = Person(user_id=user_id, unit_id=unit.id, name=name, id_number=body + ric.calc_check_digit(body + '?'),
                     gender='男' if int(body[16]) % 2 else '女', birth_date=born, state=state)
        s.add(row)
        s.flush()
        return row.id


FIXTURE_UNIT_CODE = '91450300MA5KZZZZ9X'   # not a valid code: never collides with unit_credit_code(n)


def unit_user(account: str = 'unit_demo', *, phone: str = '13900139000', password: str = PASSWORD,
              name: str = '王操作', status: str = 'active') -> int:
    """A unit operator login (the unit's own data is another module's business)."""
    return _user_row(role='unit', account=account, phone=phone, display_name=name, password=password, status=status)


def _user_row(*, password: str, **fields) -> int:
    with session_scope() as s:
        user = User(password_hash=cached_hash(password), **fields)
        s.add(user)
        s.flush()
        return user.id


def login(account: str, password: str = PASSWORD, *, roles: tuple[str, ...] = ('reviewer', 'center'),
          ip: str | None = IP) -> str:
    """A fresh session token for a password login (raises LoginError like the login form sees it)."""
    token, _ = security.login_password(roles, account, password, ip)
    return token


def get_user(user_id: int) -> User:
    with session_scope() as s:
        return s.get(User, user_id)


def set_user(user_id: int, **fields) -> None:
    with session_scope() as s:
        user = s.get(User, user_id)
        for key, value in fields.items():
            setattr(user, key, value)
        s.add(user)


def sessions_of(user_id: int) -> list[AuthSession]:
    with session_scope() as s:
        return list(s.exec(select(AuthSession).where(AuthSession.user_id == user_id).order_by(AuthSession.id)).all())


def audit_rows(event: str | None = None) -> list[AuditLog]:
    with session_scope() as s:
        query = select(AuditLog).order_by(AuditLog.id)
        if event is not None:
            query = query.where(AuditLog.event == event)
        return list(s.exec(query).all())


def table_text(table: str, exclude: tuple[str, ...] = ()) -> str:
    """Every stored value of a table as one string, exactly as the database returns it."""
    with get_engine().connect() as conn:
        result = conn.execute(text(f'SELECT * FROM {table}'))  # table names are test constants
        columns = list(result.keys())
        rows = result.fetchall()
    return '\n'.join(' | '.join(f'{c}={v}' for c, v in zip(columns, row, strict=True) if c not in exclude) for row in rows)


def outbox_lines() -> list[dict]:
    path = config.current().sms_outbox
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding='utf-8').splitlines() if line.strip()]


def last_code(phone: str, purpose: str) -> str:
    """The code the (outbox) gateway delivered last to this phone for this purpose."""
    for line in reversed(outbox_lines()):
        if line['phone'] == phone and line['purpose'] == purpose and line['code']:
            return line['code']
    raise AssertionError(f'no code was sent to {phone} for {purpose}')


# ---------------------------------------------------------------- sample files (real formats, a few bytes)

def _png_1x1() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
    header = struct.pack('>IIBBBBB', 1, 1, 8, 2, 0, 0, 0)          # 1×1, 8-bit RGB
    pixels = zlib.compress(b'\x00\xc6\x28\x28')                      # filter byte + one red pixel
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) + chunk(b'IDAT', pixels) + chunk(b'IEND', b'')


def _minimal_pdf() -> bytes:
    objects = [b'<< /Type /Catalog /Pages 2 0 R >>', b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
               b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>']
    out, offsets = bytearray(b'%PDF-1.4\n'), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b'%d 0 obj\n' % number + body + b'\nendobj\n'
    xref = len(out)
    out += b'xref\n0 %d\n0000000000 65535 f \n' % (len(objects) + 1)
    out += b''.join(b'%010d 00000 n \n' % o for o in offsets)
    out += b'trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n' % (len(objects) + 1, xref)
    return bytes(out)


TINY_PNG = _png_1x1()
TINY_PDF = _minimal_pdf()
# a 16×16 baseline JFIF image (CPython's imghdr test image, PSF licence)
TINY_JPEG = base64.b64decode(
    '/9j/4AAQSkZJRgABAQEAAQABAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8Q'
    'EBEQCgwSExIQEw8QEBD/2wBDAQMDAwQDBAgEBAgQCwkLEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ'
    'EBAQEBAQEBD/wAARCAAQABADASIAAhEBAxEB/8QAFgABAQEAAAAAAAAAAAAAAAAABwQF/8QAJBAAAQQBBAICAwAAAAAAAAAAAQID'
    'BAYFBwgSExEiABQJMTL/xAAVAQEBAAAAAAAAAAAAAAAAAAAABv/EACMRAAECBQMFAAAAAAAAAAAAAAECEQMEBQYhABIxFRZhgeH/'
    '2gAMAwEAAhEDEQA/ABSm0mobc8HmExLUlRzzEWPkJWW+ulrsaUVAseUgslSlH9LKuPryIKuWPZdskzXmm3fX5m2nF4GlVxx/HOpx'
    '4ks51+MiU/Iaad7UcUo4tILoS4kqcWkezS0hO/HvuRp0rO6hWnWO1UisZVuFi4GFeyEpmGepa5S5SWVPuciFKRFLgSrwetnyPIB+'
    'Vb4N9mKhQMzo5po9XLdDs9d6ZVix2VEhiL9kuNPxw2gEKcDQ/rs8AuA8VAe0vdl7VOYn+27flGAUgmITjbhSmCg3BYlyeWDkMolv'
    'w4KOp1KM6iCNvngZHwetf//Z')


# ---------------------------------------------------------------- units (SPEC §2.1, §3.1, §3.2), via the services

def org_id(name: str) -> int:
    """The id of a seeded review organisation (审核机构) by its name."""
    from db.models import Org
    with session_scope() as s:
        return s.exec(select(Org.id).where(Org.name == name)).one()


def actor_of_account(account: str, ip: str | None = IP):
    """The Actor the app builds for this login (a unit operator's status is its unit's state)."""
    with session_scope() as s:
        user = s.exec(select(User).where(User.account == account)).one()
        return security.actor_of(user, ip, s)


def unit_credit_code(n: int) -> str:
    from glrc_ui.demo import credit_code
    return credit_code(n)


def unit_info(n: int, org: str = '秀峰区', *, unit_type: str | None = None, **overrides) -> dict:
    """A complete, valid 单位信息维护 form for unit n whose 审核归属 is `org`."""
    from db.models import Org
    with session_scope() as s:
        kind = s.exec(select(Org.kind).where(Org.name == org)).one()
    data = {'name': f'桂林测试{n:03d}有限公司', 'credit_code': unit_credit_code(n),
            'unit_type': unit_type or ('企业' if kind == 'district' else '市直机关事业单位'),
            'allocation': kind, 'org_id': org_id(org), 'industry': '信息技术', 'address': f'桂林市{org}测试路{n}号',
            'legal_rep': f'法人{n:03d}', 'contact_phone': '0773-2825566', 'intro': '测试单位'}
    data.update(overrides)
    return data


def unit_phone(n: int) -> str:
    return f'1390773{n:04d}'


def unit_registered(n: int, *, account: str | None = None, name: str | None = None) -> tuple[int, str]:
    """单位注册 through units.register: (unit id, login account). State `registered`."""
    from glrc_ui.services import units
    account = account or f'unit_t{n:03d}'
    unit_id = units.register(name or f'桂林测试{n:03d}有限公司', unit_credit_code(n), f'操作员{n:03d}', unit_phone(n),
                             account, PASSWORD, PASSWORD)
    return unit_id, account


def unit_filled(n: int, org: str = '秀峰区', *, licence: bool = True, name: str | None = None,
                **overrides) -> tuple[int, str]:
    """Registered, 单位信息 saved (complete) and, by default, a licence PDF uploaded."""
    from glrc_ui.pdf import simple_pdf
    from glrc_ui.services import units
    unit_id, account = unit_registered(n, name=name)
    op = actor_of_account(account)
    info = unit_info(n, org, **({'name': name} if name else {}), **overrides)
    detail = units.save_info(op, info, units.my_unit(op)['version'])
    if licence:
        units.upload_licence(op, simple_pdf([f'Business licence {n:03d}']), '营业执照.pdf', detail['version'])
    return unit_id, account


def unit_submitted(n: int, org: str = '秀峰区', **kwargs) -> tuple[int, str]:
    """A complete unit submitted for review (state `pending_org`)."""
    from glrc_ui.services import units
    unit_id, account = unit_filled(n, org, **kwargs)
    op = actor_of_account(account)
    units.submit(op, units.my_unit(op)['version'])
    return unit_id, account


def unit_get(unit_id: int):
    from db.models import Unit
    with session_scope() as s:
        return s.get(Unit, unit_id)


def unit_reviews(unit_id: int) -> list:
    """The unit's review records (one per transition), oldest first."""
    from db.models import ReviewRecord
    with session_scope() as s:
        return list(s.exec(select(ReviewRecord).where(ReviewRecord.entity == 'unit', ReviewRecord.entity_id == unit_id)
                           .order_by(ReviewRecord.id)).all())


def count_rows(model) -> int:
    from sqlalchemy import func
    with session_scope() as s:
        return s.exec(select(func.count()).select_from(model)).one()


# ---------------------------------------------------------------- page helpers for the `user` fixture

def tab_panel(user, name: str):
    """The ui.tab_panel of the tab labelled `name` (all panels exist server-side at once)."""
    from nicegui import ElementFilter, ui
    with user.client:
        panels = [p for p in ElementFilter(kind=ui.tab_panel, local_scope=False) if p.props.get('name') == name]
    assert len(panels) == 1, f'expected one panel {name!r}, found {len(panels)}'
    return panels[0]


def field(user, label: str, within=None):
    """The input labelled exactly `label` (so 密码 does not also match 原密码), as a UserInteraction."""
    from nicegui import ElementFilter, ui
    from nicegui.testing.user_interaction import UserInteraction
    with user.client:
        query = ElementFilter(kind=ui.input, local_scope=False)
        if within is not None:
            query = query.within(instance=within)
        found = [e for e in query if (e.props.get('label') or '').removesuffix(' *') == label]
    assert len(found) == 1, f'expected one input {label!r}, found {len(found)}'
    return UserInteraction(user, set(found), label)


def button(user, text: str, within=None):
    from nicegui import ElementFilter, ui
    from nicegui.testing.user_interaction import UserInteraction
    with user.client:
        query = ElementFilter(kind=ui.button, local_scope=False)
        if within is not None:
            query = query.within(instance=within)
        found = [e for e in query if e.text == text]
    assert len(found) == 1, f'expected one button {text!r}, found {len(found)}'
    return UserInteraction(user, set(found), text)


def alert_text(user, within=None) -> str:
    """The visible error line (role=alert) text, '' when none is shown."""
    from nicegui import ElementFilter, ui
    with user.client:
        query = ElementFilter(kind=ui.label, local_scope=False, only_visible=True)
        if within is not None:
            query = query.within(instance=within)
        return ' '.join(e.text for e in query if e.props.get('role') == 'alert' and e.text)


def fill(user, values: dict[str, str], within=None) -> None:
    for label, value in values.items():
        field(user, label, within).clear().type(value)


async def eventually(predicate, timeout: float = 10.0, message: str = 'condition never became true'):
    """Poll until predicate() is truthy (page handlers run in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(message)
        await asyncio.sleep(0.02)


async def submit_login(user, tab: str, identifier: str, password: str) -> None:
    """Fill a login tab and press 登录; returns once the handler has answered or navigated."""
    from nicegui import ui
    user.find(kind=ui.tab, content=tab).click()
    panel = tab_panel(user, tab)
    if tab == '个人用户':
        panel = tab_panel(user, '密码登录')
        fill(user, {'手机号': identifier, '密码': password}, panel)
    else:
        fill(user, {'登录账号': identifier, '密码': password}, panel)
    client = user.client
    password_input = next(iter(field(user, '密码', panel).elements))
    button(user, '登录', panel).click()
    # a failure clears the password field; a success replaces the page
    await eventually(lambda: user.client is not client or password_input.value == '')


async def open_logged_in(user, identifier: str, password: str = PASSWORD, *, tab: str = '管理人员',
                         path: str = '/', expect: str | None = None) -> None:
    """Log in through /login?next=path and wait until the page behind it shows `expect`.

    Pages with a ui.timer answer the request once the timer waits for the socket, so the rest of
    the page may still be building: wait for its last element before touching the form."""
    await user.open(f'/login?next={path}')
    login_client = user.client
    await submit_login(user, tab, identifier, password)
    await eventually(lambda: user.client is not login_client, message=f'login as {identifier} did not leave /login')
    if expect is not None:
        await user.should_see(expect, retries=100)


async def settle(timeout: float = 10.0) -> None:
    """Wait until no page is still being built and no navigation is in flight.

    A page answers early once its ui.timer waits for the socket; if the test ends first, NiceGUI
    stops and the page's remaining run.io_bound calls get None and log errors."""
    from nicegui import background_tasks

    def busy() -> list[str]:
        return [t.get_name() for t in background_tasks.running_tasks
                if not t.done() and t.get_name().startswith(('wait for result of page', 'navigate'))]
    await eventually(lambda: not busy(), timeout, message='pages still building')


def record_tokens(monkeypatch) -> list[str]:
    """Every session token handed out from now on (to check it is revoked later)."""
    tokens: list[str] = []
    original = security.start_session

    def recording(*args, **kwargs):
        token, actor = original(*args, **kwargs)
        tokens.append(token)
        return token, actor
    monkeypatch.setattr(security, 'start_session', recording)
    return tokens


@contextmanager
def sql_log():
    """The SQL statements the app's engine sends while the block runs (BEGIN included)."""
    from sqlalchemy import event
    statements: list[str] = []

    def log(conn, cursor, statement, *args):
        statements.append(statement)
    event.listen(get_engine(), 'before_cursor_execute', log)
    try:
        yield statements
    finally:
        event.remove(get_engine(), 'before_cursor_execute', log)


@contextmanager
def read_only_database():
    """The database refuses writes the way it reports a read-only file: SQLite's query_only pragma
    ("attempt to write a readonly database"), PostgreSQL's read-only transactions."""
    from sqlalchemy import event
    engine = get_engine()
    sqlite = engine.dialect.name == 'sqlite'

    def on_connect(dbapi_conn, _record):
        cursor = dbapi_conn.cursor()
        cursor.execute('PRAGMA query_only=ON')
        cursor.close()

    def on_begin(conn):
        conn.exec_driver_sql('SET TRANSACTION READ ONLY')
    name, listener = ('connect', on_connect) if sqlite else ('begin', on_begin)
    engine.dispose()
    event.listen(engine, name, listener)
    try:
        yield
    finally:
        event.remove(engine, name, listener)
        engine.dispose()


# ---------------------------------------------------------------- persons (个人)
def id_number(n: int, *, gender: str = '男', born=None) -> str:
    """A valid 18-digit 身份证号 (GB 11643) of 秀峰区, distinct per n; the 17th digit gives the gender."""
    from datetime import date

    from stdnum.cn import ric
    born = born or date(1985, 3, 12)
    seq = (n * 2 + (1 if gender == '男' else 0)) % 1000
    body = f'450302{born:%Y%m%d}{seq:03d}'
    return body + ric.calc_check_digit(body + '?')


def person_phone(n: int) -> str:
    return f'1380773{n:04d}'


def unit_active(n: int, org: str = '秀峰区') -> tuple[int, str]:
    """A unit approved by its district and the center (state `active`)."""
    from glrc_ui.services import unit_review
    unit_id, account = unit_submitted(n, org)
    for reviewer, role in ((f'rev_u{n:03d}', 'reviewer'), (f'ctr_u{n:03d}', 'center')):
        staff(reviewer, role=role, org=org if role == 'reviewer' else None)
        unit_review.review(actor_of_account(reviewer), unit_id, 'approve', unit_get(unit_id).version, None)
    return unit_id, account


def person_registered(n: int, unit_id: int, *, gender: str = '男') -> int:
    """个人注册 through the service with the SMS code from the outbox: (person id), state `registered`."""
    from glrc_ui.services import persons
    phone = person_phone(n)
    persons.request_register_code(phone, None)
    return persons.register(phone, last_code(phone, 'register'), f'测试人员{n:03d}', id_number(n, gender=gender),
                            unit_id, PASSWORD, PASSWORD)


def person_info(n: int, *, gender: str = '男', **overrides) -> dict:
    data = {'name': f'测试人员{n:03d}', 'gender': gender, 'id_number': id_number(n, gender=gender),
            'birth_date': '1985-03-12', 'ethnicity': '壮族', 'political_status': '群众', 'email': f'p{n}@example.com',
            'education': '硕士研究生', 'degree': '硕士', 'school': '广西师范大学', 'major': '计算机科学与技术',
            'title': '工程师', 'position': '技术主管', 'work_start': '2010-07-01', 'address': f'桂林市秀峰区测试路{n}号'}
    data.update(overrides)
    return data


def person_actor(n: int):
    """The person's actor (its login is the phone)."""
    from db.models import User
    with session_scope() as s:
        user = s.exec(select(User).where(User.phone == person_phone(n), User.role == 'person')).one()
        return actor_of_account(user.account)


def person_submitted(n: int, unit_id: int) -> int:
    """Registered, 个人信息 complete and saved, 提交审核 (state `pending_unit`)."""
    from glrc_ui.services import persons
    person_id = person_registered(n, unit_id)
    actor = person_actor(n)
    detail = persons.save_info(actor, person_info(n), persons.my_person(actor)['version'])
    persons.submit(actor, detail['version'])
    return person_id


def person_get(person_id: int):
    from db.models import Person
    with session_scope() as s:
        return s.get(Person, person_id)


# ---- recognition applications ---------------------------------------------------------------------
def person_active(n: int, unit_id: int, unit_account: str) -> int:
    """A person registered, submitted and approved by its unit (state `active`): the person id."""
    from glrc_ui.services import persons
    person_id = person_submitted(n, unit_id)
    persons.review(actor_of_account(unit_account), person_id, 'approve', person_get(person_id).version, None)
    return person_id


def application_world(n: int = 1, org: str = '秀峰区') -> dict:
    """An active unit of `org` with an active person n, and the accounts that review its applications:
    {'unit_id', 'person_id', 'person', 'unit', 'reviewer', 'center'} (the last four are Actors)."""
    unit_id, unit_account = unit_active(n, org)
    person_id = person_active(n, unit_id, unit_account)
    return {'unit_id': unit_id, 'person_id': person_id, 'person': person_actor(n),
            'unit': actor_of_account(unit_account), 'reviewer': actor_of_account(f'rev_u{n:03d}'),
            'center': actor_of_account(f'ctr_u{n:03d}'), 'unit_account': unit_account}


def clause_of(level: str = 'D', index: int = 0) -> int:
    """The id of a clause of the current catalogue for `level`."""
    from glrc_ui.services import catalogue
    return list(catalogue.options()['clauses'][level])[index]


def application_values(level: str = 'D', **overrides) -> dict:
    return {'level': level, 'clause_id': clause_of(level), 'specialty': '计算机软件研发 / 高级工程师',
            'achievements': '主持完成市级科技项目 3 项，获授权发明专利 5 项。', 'honors': '桂林市科技进步奖一等奖',
            'other_notes': '', 'pledge': True} | overrides


def application_draft(actor, level: str = 'D', **overrides) -> dict:
    from glrc_ui.services import applications
    return applications.save(actor, None, application_values(level, **overrides), 0)


def application_complete(actor, level: str = 'D', *, offline: tuple[str, ...] = (), **overrides) -> dict:
    """A draft with every field and a file for each material type the clause requires (or 线下提交)."""
    from glrc_ui.services import applications
    d = application_draft(actor, level, **overrides)
    for m in d['materials']:
        if m['required']:
            if m['key'] in offline:
                applications.set_offline(actor, d['id'], m['key'], True, '涉密材料，线下提交')
            else:
                applications.upload_evidence(actor, d['id'], m['key'], TINY_PDF, f'{m["label"]}.pdf')
    return applications.my_application(actor, d['id'])


def application_submitted(actor, level: str = 'D', **overrides) -> dict:
    from glrc_ui.services import applications
    d = application_complete(actor, level, **overrides)
    applications.submit(actor, d['id'], d['version'])
    return applications.my_application(actor, d['id'])


def application_get(app_id: int):
    from db.models import Application
    with session_scope() as s:
        return s.get(Application, app_id)


# ---- recognition applications driven to a state; reading an Excel export (tests/unit/test_application_*) ----
# (who acts, action) from pending_unit to each state; 'returned' is returned by the org (its reviewers
# keep seeing it: reached_org), 'rejected' is rejected by the unit (it never reached the org)
APPLICATION_STEPS: dict[str, tuple[tuple[str, str], ...]] = {
    'pending_unit': (),
    'pending_org': (('unit', 'approve'),),
    'pending_center': (('unit', 'approve'), ('reviewer', 'approve')),
    'approved': (('unit', 'approve'), ('reviewer', 'approve'), ('center', 'approve')),
    'returned': (('unit', 'approve'), ('reviewer', 'return_')),
    'rejected': (('unit', 'reject'),),
}


def application_in(world: dict, state: str, level: str = 'D', *, granted: str | None = None) -> int:
    """An application of world['person'] (application_world) brought to `state` through the services:
    'draft' is complete (with its files) but not submitted. Returns its id."""
    from glrc_ui.services import application_review
    if state == 'draft':
        return application_complete(world['person'], level)['id']
    app_id = application_submitted(world['person'], level)['id']
    for who, action in APPLICATION_STEPS[state]:
        opinion = None if action == 'approve' else f'{who}：请补充材料'
        data = {'granted_level': granted or level} if who == 'center' else None
        application_review.review(world[who], app_id, action, application_get(app_id).version, opinion, data)
    assert application_get(app_id).state == state
    return app_id


def application_file_ids(app_id: int) -> list[int]:
    """The ids of an application's evidence files (not deleted)."""
    from sqlmodel import col

    from db.models import StoredFile
    with session_scope() as s:
        return list(s.exec(select(StoredFile.id).where(StoredFile.entity == 'application', StoredFile.entity_id == app_id,
                                                       col(StoredFile.deleted_at).is_(None))
                           .order_by(StoredFile.id)).all())


XLSX_NS = {'x': 'http://schemas.openxmlformats.org/spreadsheetml/2006/main'}


def xlsx_sheet(path) -> dict:
    """The first worksheet of an .xlsx read with zipfile alone: {'xml': the sheet's XML text,
    'rows': [[cell text, …], …], 'types': [[cell t attribute, …], …]} (shared and inline strings
    resolved; a row is as long as its last cell)."""
    import re
    import zipfile
    from xml.etree import ElementTree

    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        shared: list[str] = []
        if 'xl/sharedStrings.xml' in names:
            root = ElementTree.fromstring(z.read('xl/sharedStrings.xml'))
            shared = [''.join(t.text or '' for t in si.iter(f'{{{XLSX_NS["x"]}}}t')) for si in root.findall('x:si', XLSX_NS)]
        xml = z.read('xl/worksheets/sheet1.xml').decode('utf-8')
    rows, types = [], []
    for row in ElementTree.fromstring(xml).find('x:sheetData', XLSX_NS).findall('x:row', XLSX_NS):
        values: list[str] = []
        kinds: list[str | None] = []
        for cell in row.findall('x:c', XLSX_NS):
            letters = re.match(r'[A-Z]+', cell.get('r')).group()
            index = 0
            for ch in letters:
                index = index * 26 + ord(ch) - 64
            while len(values) < index - 1:
                values.append('')
                kinds.append(None)
            kind = cell.get('t')
            if kind == 's':
                text_value = shared[int(cell.find('x:v', XLSX_NS).text)]
            elif kind == 'inlineStr':
                text_value = ''.join(t.text or '' for t in cell.iter(f'{{{XLSX_NS["x"]}}}t'))
            else:
                v = cell.find('x:v', XLSX_NS)
                text_value = v.text if v is not None and v.text else ''
            values.append(text_value)
            kinds.append(kind)
        rows.append(values)
        types.append(kinds)
    return {'xml': xml, 'rows': rows, 'types': types}


def export_sheet(actor, **filters) -> dict:
    """导出Excel as `actor` (application_review.export + take_export): xlsx_sheet of the file, plus
    'rows_reported' (what export said) and 'path'."""
    from glrc_ui.services import application_review
    made = application_review.export(actor, **filters)
    taken = application_review.take_export(actor, made['token'])
    assert taken is not None, 'the export was not handed to its creator'
    path, name = taken
    assert name.endswith('.xlsx')
    return xlsx_sheet(path) | {'rows_reported': made['rows'], 'path': path}
