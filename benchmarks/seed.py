"""Bulk seeding for the benchmarks: a fresh data dir (SQLite) or database (PostgreSQL) filled with
`rows` units, persons (with their logins), applications, users and audit log entries, plus
`accounts` center staff accounts bench0000… (password ACCOUNT_PASSWORD) for the load scenarios.

    python benchmarks/seed.py --rows 100000 [--backend postgresql] [--work-dir /tmp/glrc_bench]

The schema is the app's (`python main.py migrate` first); the rows are then inserted with SQLAlchemy
Core executemany in batches (not the service path): SQLite in one transaction with the bulk-load
PRAGMAs (no journal, no fsync, a big page cache), PostgreSQL in batches of multi-row INSERTs with
synchronous_commit off. The secondary (non-unique) indexes and the FTS5 triggers of the five tables
are dropped for the load and recreated from their own definitions afterwards (an index built once
from sorted rows is far cheaper than one kept up to date row by row), the FTS5 trigram tables are
rebuilt, then ANALYZE. Every password hash is the one hash of ACCOUNT_PASSWORD (argon2 once, not per
row), so every seeded login works with that password.

What is in it (rows = N):
- N units over the seeded 审核机构 (a few busy ones), in every state of the unit machine, submitted
  over two years, each with its operator (role unit): N + N users;
- N persons (each with its login, role person: N more users), spread Zipf-like over the active units
  (one big employer has a long queue), in every state of the person machine;
- N applications, one per person, in every state and 层次, ids in creation order (申报编号 as the app
  makes them), reached_org / reached_center and unique 证书编号 as the workflow leaves them;
- N audit log entries over two years (logins, views, downloads, failures…), in time order;
- one reviewer per org (bench_rev_<org id>) and `accounts` center staff accounts bench0000….
So app_user holds 2N + accounts + 28 rows (N is a floor for "N users").

cached(work_dir, backend, rows) keeps one seeded data dir (and, for PostgreSQL, one database
glrc_bench_<size>, never `test`) per (backend, rows), so a second run does not seed again."""
from __future__ import annotations

import argparse
import bisect
import itertools
import json
import os
import random
import shutil
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from stdnum.cn import ric, uscc  # noqa: E402

ACCOUNT_PREFIX = 'bench'
ACCOUNT_PASSWORD = 'Bench#Glrc2026'
SEED_FORMAT = 1          # bump when the seeded content changes: cached data dirs of another format are reseeded
DEFAULT_PG_SERVER = 'postgresql+psycopg://postgres@127.0.0.1:5432/postgres'
FACTS_FILE = 'seed.json'
SEEDING_FILE = 'seeding.pid'
BATCH = 5_000
TABLES = ('unit', 'app_user', 'person', 'application', 'audit_log')

# ---- shared vocabulary (also used by benchmarks/unit_queue.py and benchmarks/application_queue.py) ----
BUSY_ORGS = {'秀峰区': 6, '七星区': 5, '象山区': 4, '叠彩区': 3, '临桂区': 3, '桂林高新区': 4, '市教育局': 3,
             '市卫生健康委员会': 2}
WORDS = ['漓江', '山水', '桂花', '象鼻', '七星', '独秀', '阳朔', '兴安', '恭城', '资源', '灵川', '临桂', '高新', '银海',
         '华越', '科创', '宏达', '金桂', '瑞丰', '兴业']
UNIT_KINDS = [('科技有限公司', '企业'), ('电子有限公司', '企业'), ('旅游服务有限公司', '企业'), ('药业有限公司', '企业'),
              ('建材有限公司', '企业'), ('文化传媒有限公司', '企业'), ('中学', '市直机关事业单位'),
              ('医院', '市直机关事业单位'), ('研究所', '中区直事业单位'), ('服务中心', '其他')]
UNIT_STATE_WEIGHTS = {'registered': 10, 'pending_org': 15, 'pending_center': 10, 'returned': 10, 'active': 50,
                      'disabled': 5}
PERSON_STATE_WEIGHTS = {'registered': 15, 'pending_unit': 10, 'returned': 5, 'active': 70}
APP_STATE_WEIGHTS = {'pending_unit': 9, 'pending_org': 9, 'pending_center': 8, 'approved': 44, 'returned': 8,
                     'rejected': 10, 'draft': 12}
APP_PENDING = {'pending_unit', 'pending_org', 'pending_center'}
AREAS = ('450302', '450303', '450304', '450305', '450311', '450312', '450321', '450323', '450324', '450325')
SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹'
GIVEN = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国文红志海波云飞鹏辉宇浩然思雨欣怡晨阳子轩佳琪博涵诗梦瑶嘉俊凯'
ACHIEVEMENT = ('主持完成国家级科研项目一项、省部级项目两项，发表SCI论文多篇，获授权发明专利若干项，'
               '成果在本地企业推广应用，带动产值显著增长；作为学科带头人培养青年骨干，组建创新团队。')
FAKE_HASH = '$argon2id$v=19$m=65536,t=3,p=4$YmVuY2htYXJr$YmVuY2htYXJrYmVuY2htYXJrYmVuY2htYXJr'
AUDIT_EVENTS = {'login': 40, 'logout': 10, 'unit_viewed': 8, 'person_viewed': 6, 'application_viewed': 12,
                'file_download': 8, 'file_uploaded': 5, 'application_saved': 5, 'login_failed': 4,
                'permission_denied': 1, 'password_change': 1}


def account_name(i: int) -> str:
    """The i-th seeded center staff account (bench0000, bench0001, …)."""
    return f'{ACCOUNT_PREFIX}{i:04d}'


def credit_code(n: int) -> str:
    """A valid 统一社会信用代码, unique per n (n < 10⁷)."""
    body = f'91450300M{n:07d}A'[:17] if n >= 1_000_000 else f'91450300MA5{n:06d}'
    return body + uscc.calc_check_digit(body)


def id_number(n: int) -> str:
    """A valid-looking 身份证号, unique per n (n < 14.6 M): area, birth date (1960-2000) and sequence."""
    day, seq = n % 14_600, n // 14_600
    born = date(1960, 1, 1) + timedelta(days=day)
    body = f'{AREAS[n % len(AREAS)]}{born:%Y%m%d}{seq % 1000:03d}'
    return body + ric.calc_check_digit(body + '0')   # it reads the first 17 digits of 18


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + ''.join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def chunks(rows: Iterable, size: int = BATCH) -> Iterator[list]:
    it = iter(rows)
    while part := list(itertools.islice(it, size)):
        yield part


def user_row(user_id: int | None, role: str, account: str, display_name: str, password_hash: str,
             created: datetime, *, phone: str | None = None, org_id: int | None = None,
             unit_id: int | None = None) -> dict:
    row = {'role': role, 'account': account, 'phone': phone, 'display_name': display_name,
           'password_hash': password_hash, 'status': 'active', 'is_admin': False, 'must_change_password': False,
           'org_id': org_id, 'unit_id': unit_id, 'avatar_file_id': None, 'failed_logins': 0, 'locked_until': None,
           'last_login_at': None, 'version': 1, 'created_at': created}
    if user_id is not None:
        row['id'] = user_id
    return row


def unit_row(unit_id: int, n: int, org: dict, state: str, rng: random.Random, now: datetime,
             created: datetime | None = None) -> dict:
    """A unit in `state` of org, its name made of WORDS and a kind, credit code credit_code(n)."""
    suffix, unit_type = rng.choice(UNIT_KINDS)
    if org['kind'] == 'department':
        unit_type = '市直机关事业单位' if unit_type != '其他' else '其他'
    elif unit_type == '市直机关事业单位':
        unit_type, suffix = '企业', '科技有限公司'
    if created is None:
        created = now - timedelta(days=rng.uniform(0, 730), seconds=rng.randint(0, 86399))
    submitted = None if state == 'registered' else min(created + timedelta(hours=rng.uniform(1, 24 * 30)), now)
    return {'id': unit_id, 'name': f'桂林{rng.choice(WORDS)}{rng.choice(WORDS)}{suffix}{n:05d}',
            'credit_code': credit_code(n), 'unit_type': unit_type, 'allocation': org['kind'], 'org_id': org['id'],
            'industry': '信息技术', 'address': f'桂林市{org["name"]}示例路{n}号', 'legal_rep': f'法人{n:05d}',
            'contact_phone': '0773-2825566', 'intro': '基准测试数据', 'licence_file_id': None, 'state': state,
            'version': 3 if state == 'registered' else 9, 'submitted_at': submitted, 'created_at': created,
            'updated_at': submitted or created}


def person_row(person_id: int, user_id: int, unit_id: int, name: str, number: str, state: str,
               created: datetime) -> dict:
    return {'id': person_id, 'user_id': user_id, 'unit_id': unit_id, 'name': name, 'id_number': number,
            'gender': '男' if int(number[16]) % 2 else '女',
            'birth_date': date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
            'ethnicity': '汉族', 'political_status': '群众', 'email': None, 'education': '研究生', 'degree': '博士',
            'school': '广西师范大学', 'major': '计算机科学与技术', 'title': '正高级工程师', 'position': '总工程师',
            'work_start': date(2010, 7, 1), 'address': '桂林市', 'created_by_unit': False, 'state': state,
            'version': 1 if state == 'registered' else 3,
            'submitted_at': None if state == 'registered' else created + timedelta(days=1), 'created_at': created,
            'updated_at': created + timedelta(days=2)}


def application_plan(rng: random.Random, now: datetime) -> tuple:
    """(state, submitted, created, decided, furthest stage) of one application: furthest is the stage
    it has been at (0 unit, 1 org, 2 center), so reached_org = furthest ≥ 1, reached_center = 2."""
    state = rng.choices(list(APP_STATE_WEIGHTS), list(APP_STATE_WEIGHTS.values()))[0]
    age = rng.uniform(0, 120) if state in APP_PENDING else rng.uniform(0, 730)
    submitted: datetime | None = now - timedelta(days=age, seconds=rng.randint(0, 86_399))
    assert submitted is not None
    created = submitted - timedelta(hours=rng.uniform(1, 24 * 30))
    decided = None
    if state in ('approved', 'rejected'):
        decided = min(submitted + timedelta(days=rng.uniform(5, 60)), now)
    if state == 'draft':
        submitted = None
    if state in ('pending_center', 'approved'):
        furthest = 2
    elif state in ('returned', 'rejected'):     # returned / rejected at the unit, org or center stage
        furthest = rng.choices((0, 1, 2), (4, 3, 3))[0]
    elif state == 'pending_unit':               # some were returned at a later stage and resubmitted
        furthest = rng.choices((0, 1, 2), (18, 1, 1))[0]
    elif state == 'pending_org':
        furthest = rng.choices((1, 2), (19, 1))[0]
    else:
        furthest = 0
    return state, submitted, created, decided, furthest


def application_row(app_id: int, plan: tuple, person: dict, unit: dict, level: str, clause: dict,
                    rng: random.Random, texts: list[str], certificates: Counter) -> dict:
    """One application of person at unit (dicts with id/user_id/name/id_number/phone and id/name/org_id)
    as the workflow leaves it in plan's state; certificates counts the 证书编号 issued per (year, 层次)."""
    from db.models import LEVELS
    from glrc_ui import clock
    state, submitted, created, decided, furthest = plan
    granted = certificate = None
    if state == 'approved':
        granted = level if rng.random() < 0.85 else LEVELS[min(LEVELS.index(level) + 1, len(LEVELS) - 1)]
        year = decided.astimezone(clock.SHANGHAI).year
        certificates[(year, granted)] += 1
        certificate = f'GLRC-{year}-{granted}-{certificates[(year, granted)]:06d}'
    snapshot = None
    if submitted is not None:
        snapshot = json.dumps({'name': person['name'], 'gender': '男', 'birth_date': '1980-01-01',
                               'id_number': person['id_number'], 'education': '研究生', 'degree': '博士',
                               'school': '广西师范大学', 'major': '计算机科学与技术', 'title': '正高级工程师',
                               'position': '总工程师', 'unit_name': unit['name'], 'phone': person['phone']},
                              ensure_ascii=False)
    return {
        'id': app_id, 'number': f'SB{created.astimezone(clock.SHANGHAI):%Y}{app_id:07d}',
        'person_id': person['id'], 'applicant_user_id': person['user_id'], 'unit_id': unit['id'],
        'org_id': unit['org_id'] if submitted is not None else None, 'reached_org': furthest >= 1,
        'reached_center': furthest == 2, 'applicant_name': person['name'], 'id_number': person['id_number'],
        'level': level, 'catalogue_version_id': clause['version_id'], 'clause_id': clause['id'],
        'clause_code': clause['code'], 'clause_text': clause['text'], 'specialty': '软件研发',
        'achievements': rng.choice(texts), 'honors': '桂林市劳动模范', 'other_notes': None, 'pledge': True,
        'offline': None, 'snapshot': snapshot, 'granted_level': granted, 'certificate_no': certificate,
        'state': state, 'version': 2 if state == 'draft' else rng.randint(3, 9), 'submitted_at': submitted,
        'decided_at': decided, 'created_at': created, 'updated_at': decided or submitted or created}


# ---- bulk loading ------------------------------------------------------------------------------------
class BulkLoad:
    """A connection for a bulk load: SQLite with no journal, no fsync and a big cache; PostgreSQL with
    synchronous_commit off. The secondary indexes and FTS triggers of TABLES are dropped on entry and
    recreated (FTS tables rebuilt) on finish()."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine
        self.engine = create_engine(url)
        self.dialect = self.engine.dialect.name
        self.conn = self.engine.connect()
        self.saved: list[str] = []
        self.timings: dict[str, float] = {}

    def begin(self) -> None:
        from sqlalchemy import text
        c = self.conn
        if self.dialect == 'sqlite':
            for pragma in ('PRAGMA journal_mode=OFF', 'PRAGMA synchronous=OFF', 'PRAGMA cache_size=-1000000',
                           'PRAGMA temp_store=MEMORY', 'PRAGMA foreign_keys=OFF', 'PRAGMA locking_mode=EXCLUSIVE'):
                c.exec_driver_sql(pragma)
            names = ', '.join(f"'{t}'" for t in TABLES)
            rows = c.exec_driver_sql(
                f"SELECT type, name, sql FROM sqlite_master WHERE tbl_name IN ({names}) AND sql IS NOT NULL "
                f"AND ((type = 'index' AND sql NOT LIKE 'CREATE UNIQUE%') OR type = 'trigger')").all()
            for kind, name, sql in rows:
                c.exec_driver_sql(f'DROP {kind.upper()} "{name}"')
                self.saved.append(sql)
        else:
            c.exec_driver_sql('SET synchronous_commit = off')
            c.exec_driver_sql("SET maintenance_work_mem = '512MB'")
            names = ', '.join(f"'{t}'" for t in TABLES)
            rows = c.execute(text(
                f"SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' AND "
                f"i.tablename IN ({names}) AND i.indexdef NOT LIKE :unique"), {'unique': 'CREATE UNIQUE%'}).all()
            for name, sql in rows:
                c.exec_driver_sql(f'DROP INDEX "{name}"')
                self.saved.append(sql)
        self.timings['drop'] = 0.0

    def insert(self, table, rows: Iterable[dict]) -> int:
        """executemany of plain tuples in batches, each value through its column type's own bind
        processor (the stored format is SQLAlchemy's, as the app writes it), without SQLAlchemy's
        per-row statement machinery (a third of the time of a Core insert)."""
        dialect = self.engine.dialect
        mark = '?' if self.dialect == 'sqlite' else '%s'
        started, count = time.perf_counter(), 0
        sql, columns, processors = '', [], []
        for part in chunks(rows):
            if not sql:
                columns = list(part[0])
                processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]
                sql = (f'INSERT INTO "{table.name}" ({", ".join(f"{chr(34)}{c}{chr(34)}" for c in columns)}) '
                       f'VALUES ({", ".join([mark] * len(columns))})')
            pairs = list(zip(columns, processors, strict=True))
            data = [tuple(p(row[c]) if p else row[c] for c, p in pairs) for row in part]
            self.conn.exec_driver_sql(sql, data)
            count += len(part)
        self.timings[table.name] = self.timings.get(table.name, 0.0) + time.perf_counter() - started
        return count

    def finish(self) -> None:
        c = self.conn
        started = time.perf_counter()
        for sql in self.saved:           # indexes first (sorted builds), then triggers
            if not sql.upper().startswith('CREATE TRIGGER'):
                c.exec_driver_sql(sql)
        self.timings['indexes'] = time.perf_counter() - started
        started = time.perf_counter()
        if self.dialect == 'sqlite':
            for sql in self.saved:
                if sql.upper().startswith('CREATE TRIGGER'):
                    c.exec_driver_sql(sql)
            from glrc_ui.search import rebuild_statements
            for statement in rebuild_statements():   # with the end mark of two-character search
                c.exec_driver_sql(statement)
        else:
            for table in ('unit', 'app_user', 'person', 'application', 'audit_log'):
                c.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))")
        self.timings['fts'] = time.perf_counter() - started
        c.commit()
        started = time.perf_counter()
        if self.dialect == 'sqlite':
            c.exec_driver_sql('ANALYZE')
            c.commit()
            c.exec_driver_sql('PRAGMA journal_mode=WAL')   # as the app keeps it
        else:
            c.commit()
            auto = c.execution_options(isolation_level='AUTOCOMMIT')
            auto.exec_driver_sql('VACUUM ANALYZE')
        self.timings['analyze'] = time.perf_counter() - started

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()


def seed(data_dir: Path, database_url: str | None, *, rows: int, accounts: int = 1000, seed_value: int = 2026,
         quiet: bool = False) -> dict:
    """Fill a fresh data dir (and, for PostgreSQL, an empty database) with `rows` of each table and
    `accounts` center staff accounts; returns the facts the scenarios need (also written to
    data_dir/../seed.json by cached())."""
    from benchmarks.common import cli
    began = time.perf_counter()
    data_dir = Path(data_dir)
    if (data_dir / 'glrc.sqlite3').exists():
        raise RuntimeError(f'{data_dir} already holds a database: seed() fills a fresh data dir')
    cli(data_dir, 'migrate', database_url=database_url)       # the app's schema, orgs and 认定目录
    migrated = time.perf_counter() - began
    url = database_url or f'sqlite:///{data_dir / "glrc.sqlite3"}'
    facts = _fill(url, rows, accounts, seed_value)
    facts.update(rows=rows, accounts=accounts, backend='sqlite' if url.startswith('sqlite') else 'postgresql',
                 migrate_seconds=round(migrated, 2), seconds=round(time.perf_counter() - began, 1),
                 format=SEED_FORMAT, seeded_at=datetime.now(UTC).isoformat(timespec='seconds'))
    if not quiet:
        steps = ', '.join(f'{k} {v:.1f} s' for k, v in facts['timings'].items())
        print(f'seeded {rows:,} rows per table ({facts["counts"]}) in {facts["seconds"]:.1f} s '
              f'(migrate {migrated:.1f} s; {steps})', flush=True)
    return facts


def _fill(url: str, rows: int, accounts: int, seed_value: int) -> dict:
    from sqlalchemy import func, select

    from db.models import LEVELS, Application, AuditLog, CatalogueClause, CertificateSequence, Org, Person, Unit, User
    from glrc_ui import security
    rng = random.Random(seed_value)
    now = datetime.now(UTC).replace(microsecond=0)
    password_hash = security.PWD.hash(ACCOUNT_PASSWORD)      # once: every seeded login shares it
    load = BulkLoad(url)
    c = load.conn
    orgs = [dict(r._mapping) for r in c.execute(select(Org.id, Org.name, Org.kind).order_by(Org.id))]
    clauses = [dict(r._mapping) for r in c.execute(
        select(CatalogueClause.id, CatalogueClause.version_id, CatalogueClause.level, CatalogueClause.code,
               CatalogueClause.text))]
    by_level: dict[str, list[dict]] = {}
    for clause in clauses:
        by_level.setdefault(clause['level'], []).append(clause)
    for table in (Unit, User, Person, Application):
        if c.execute(select(table.id).limit(1)).first() is not None:
            raise RuntimeError(f'{table.__tablename__} is not empty: seed() fills a fresh database')
    first_audit = (c.execute(select(func.max(AuditLog.id))).scalar() or 0) + 1   # migrate audits the 认定目录
    load.begin()

    # units: ids 1..N, user ids of their operators 1..N
    org_weights = list(itertools.accumulate(BUSY_ORGS.get(o['name'], 1) for o in orgs))
    unit_states = list(UNIT_STATE_WEIGHTS)
    unit_state_cum = list(itertools.accumulate(UNIT_STATE_WEIGHTS.values()))
    unit_org = [orgs[bisect.bisect(org_weights, rng.random() * org_weights[-1])]['id'] for _ in range(rows)]
    unit_state = [unit_states[bisect.bisect(unit_state_cum, rng.random() * unit_state_cum[-1])] for _ in range(rows)]
    org_by_id = {o['id']: o for o in orgs}
    unit_names: list[str] = [''] * rows

    def units() -> Iterator[dict]:
        for k in range(rows):
            row = unit_row(k + 1, k, org_by_id[unit_org[k]], unit_state[k], rng, now)
            unit_names[k] = row['name']
            yield row

    load.insert(Unit.__table__, units())

    def operators() -> Iterator[dict]:
        for k in range(rows):
            yield user_row(k + 1, 'unit', f'bench_u{k:07d}', f'操作员{k:07d}', password_hash,
                           now - timedelta(days=800), phone=f'139{k:08d}', unit_id=k + 1)

    load.insert(User.__table__, operators())

    # persons over the active units, Zipf-like (rank r gets 1/(r+1)^0.8): user ids N+1..2N
    active = [k + 1 for k in range(rows) if unit_state[k] == 'active'] or [1]
    rng.shuffle(active)
    unit_cum = list(itertools.accumulate(1 / (rank + 1) ** 0.8 for rank in range(len(active))))
    person_unit = [active[bisect.bisect(unit_cum, rng.random() * unit_cum[-1])] for _ in range(rows)]
    person_states = list(PERSON_STATE_WEIGHTS)
    person_state_cum = list(itertools.accumulate(PERSON_STATE_WEIGHTS.values()))
    names = [person_name(rng) for _ in range(rows)]

    def person_users() -> Iterator[dict]:
        for k in range(rows):
            phone = f'138{k:08d}'
            yield user_row(rows + k + 1, 'person', phone, names[k], password_hash, now - timedelta(days=800),
                           phone=phone)

    load.insert(User.__table__, person_users())

    def persons() -> Iterator[dict]:
        for k in range(rows):
            state = person_states[bisect.bisect(person_state_cum, rng.random() * person_state_cum[-1])]
            created = now - timedelta(days=rng.uniform(0, 800), seconds=rng.randint(0, 86_399))
            yield person_row(k + 1, rows + k + 1, person_unit[k], names[k], id_number(k), state, created)

    load.insert(Person.__table__, persons())

    # reviewers (one per org) and the center staff accounts
    staff_rows = [user_row(None, 'reviewer', f'bench_rev_{o["id"]}', f'基准审核{o["id"]}', password_hash, now,
                           org_id=o['id']) for o in orgs]
    staff_rows += [user_row(None, 'center', account_name(i), f'基准中心{i:04d}', password_hash, now)
                   for i in range(accounts)]
    first_staff = 2 * rows + 1
    for offset, row in enumerate(staff_rows):
        row['id'] = first_staff + offset
    load.insert(User.__table__, staff_rows)
    reviewer_of = {o['id']: first_staff + i for i, o in enumerate(orgs)}
    center_id = first_staff + len(orgs) if accounts else None

    # applications: one per person, ids (and 申报编号) in the order the drafts were created
    planned = [(application_plan(rng, now), k) for k in range(rows)]
    planned.sort(key=lambda p: p[0][2])
    texts = [ACHIEVEMENT * rng.randint(1, 6) for _ in range(32)]
    certificates: Counter = Counter()
    app_counts: Counter = Counter()            # (scope, key) -> applications, for the busiest actors

    def applications() -> Iterator[dict]:
        for app_id, (plan, k) in enumerate(planned, start=1):
            unit_id = person_unit[k]
            unit = {'id': unit_id, 'name': unit_names[unit_id - 1], 'org_id': unit_org[unit_id - 1]}
            person = {'id': k + 1, 'user_id': rows + k + 1, 'name': names[k], 'id_number': id_number(k),
                      'phone': f'138{k:08d}'}
            level = LEVELS[k % len(LEVELS)]
            row = application_row(app_id, plan, person, unit, level, rng.choice(by_level[level]), rng, texts,
                                  certificates)
            if row['state'] != 'draft':
                app_counts[('unit', unit_id)] += 1
                if row['reached_org']:
                    app_counts[('org', unit['org_id'])] += 1
            yield row

    load.insert(Application.__table__, applications())
    if certificates:
        load.insert(CertificateSequence.__table__,
                    [{'year': y, 'level': lv, 'last': n} for (y, lv), n in certificates.items()])

    # audit log: in time order over two years
    events = list(AUDIT_EVENTS)
    event_cum = list(itertools.accumulate(AUDIT_EVENTS.values()))
    span = timedelta(days=730).total_seconds()
    start = now - timedelta(days=730)

    def audit() -> Iterator[dict]:
        for k in range(rows):
            event = events[bisect.bisect(event_cum, rng.random() * event_cum[-1])]
            who = rng.randrange(1, 2 * rows + 1)
            role = 'unit' if who <= rows else 'person'
            account = f'bench_u{who - 1:07d}' if role == 'unit' else f'138{who - rows - 1:04d}****'
            obj = {'unit_viewed': f'unit:{rng.randrange(1, rows + 1)}',
                   'person_viewed': f'person:{rng.randrange(1, rows + 1)}',
                   'application_viewed': f'application:{rng.randrange(1, rows + 1)}',
                   'file_download': f'file:{rng.randrange(1, rows + 1)}',
                   'permission_denied': f'application:{rng.randrange(1, rows + 1)}'}.get(event)
            yield {'id': first_audit + k, 'at': start + timedelta(seconds=span * k / rows + rng.uniform(0, 30)),
                   'user_id': who, 'account': account, 'role': role,
                   'ip': f'10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}', 'event': event,
                   'object': obj, 'result': 'failed' if event == 'login_failed' else 'ok', 'detail': None}

    load.insert(AuditLog.__table__, audit())
    load.finish()
    load.close()

    # facts for the scenarios
    busiest_unit = max((key for key in app_counts if key[0] == 'unit'), key=lambda key: app_counts[key])[1]
    busiest_org = max((key for key in app_counts if key[0] == 'org'), key=lambda key: app_counts[key])[1]
    persons_per_unit = Counter(person_unit)
    biggest_unit = persons_per_unit.most_common(1)[0][0]
    units_per_org = Counter(unit_org[k] for k in range(rows) if unit_state[k] != 'registered')
    unit_org_busiest = units_per_org.most_common(1)[0][0]
    name_counts = Counter(names)
    common_name = name_counts.most_common(len(name_counts))[len(name_counts) // 4][0] if rows > 4 else names[0]
    sample_k = rows // 2
    return {
        'counts': {'unit': rows, 'person': rows, 'application': rows, 'audit_log': rows,
                   'app_user': 2 * rows + len(staff_rows)},
        'timings': {k: round(v, 2) for k, v in load.timings.items()},
        'center_id': center_id,
        'reviewers': {str(k): v for k, v in reviewer_of.items()},
        'unit_org': {'org_id': unit_org_busiest, 'org_name': org_by_id[unit_org_busiest]['name'],
                     'reviewer_id': reviewer_of[unit_org_busiest], 'units': units_per_org[unit_org_busiest]},
        'person_unit': {'unit_id': biggest_unit, 'operator_id': biggest_unit,
                        'persons': persons_per_unit[biggest_unit]},
        'app_unit': {'unit_id': busiest_unit, 'operator_id': busiest_unit,
                     'applications': app_counts[('unit', busiest_unit)]},
        'app_org': {'org_id': busiest_org, 'org_name': org_by_id[busiest_org]['name'],
                    'reviewer_id': reviewer_of[busiest_org], 'applications': app_counts[('org', busiest_org)]},
        'samples': {'credit_code': credit_code(sample_k), 'unit_word': WORDS[3] + WORDS[7][:1],
                    'person_name': common_name, 'surname': common_name[:1] + GIVEN[0],
                    'id_number': id_number(sample_k), 'phone': f'138{sample_k:08d}'},
    }


# ---- the cache -------------------------------------------------------------------------------------------
def size_label(rows: int) -> str:
    if rows % 1_000_000 == 0:
        return f'{rows // 1_000_000}m'
    if rows % 1_000 == 0:
        return f'{rows // 1_000}k'
    return str(rows)


def pg_database_url(rows: int, server: str = DEFAULT_PG_SERVER) -> str:
    from sqlalchemy.engine import make_url
    name = f'glrc_bench_{size_label(rows)}'
    assert name != 'test'
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def _recreate_pg_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    target = make_url(url)
    name = target.database
    if not name or name in ('test', 'postgres', 'template0', 'template1'):
        raise ValueError(f'refusing to (re)create the database {name!r}')
    admin = create_engine(target.set(database='postgres'), isolation_level='AUTOCOMMIT')
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def cached(work_dir: Path, backend: str, rows: int, *, accounts: int = 1000,
           pg_server: str = DEFAULT_PG_SERVER) -> tuple[Path, str | None, dict]:
    """(data dir, database URL or None, facts) of a seeded (backend, rows), seeding it when there is no
    complete one under work_dir yet (or one with fewer accounts or another SEED_FORMAT)."""
    home = Path(work_dir) / f'{backend}-{size_label(rows)}'
    facts_path = home / FACTS_FILE
    database_url = pg_database_url(rows, pg_server) if backend == 'postgresql' else None
    if facts_path.exists():
        facts = json.loads(facts_path.read_text())
        if facts.get('format') == SEED_FORMAT and facts.get('accounts', 0) >= accounts and facts.get('rows') == rows:
            print(f'{backend} {rows:,}: seeded data dir {home} (seeded {facts["seeded_at"]}, '
                  f'took {facts["seconds"]:.0f} s)', flush=True)
            return home / 'data', database_url, facts
    if _seeding_elsewhere(home):         # another process is seeding it: wait for it, do not start over
        print(f'{backend} {rows:,}: another process is seeding {home}; waiting …', flush=True)
        while _seeding_elsewhere(home) and not facts_path.exists():
            time.sleep(10)
        if facts_path.exists():
            return cached(work_dir, backend, rows, accounts=accounts, pg_server=pg_server)
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    (home / SEEDING_FILE).write_text(str(os.getpid()))
    if database_url:
        _recreate_pg_database(database_url)
    print(f'{backend} {rows:,}: seeding into {home} …', flush=True)
    facts = seed(home / 'data', database_url, rows=rows, accounts=accounts)
    facts_path.write_text(json.dumps(facts, ensure_ascii=False, indent=1))
    (home / SEEDING_FILE).unlink(missing_ok=True)
    return home / 'data', database_url, facts


def _seeding_elsewhere(home: Path) -> bool:
    """A live process other than this one is seeding into home (its pid in home/seeding.pid)."""
    try:
        pid = int((home / SEEDING_FILE).read_text().strip())
    except (OSError, ValueError):
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def default_work_dir() -> Path:
    return Path(os.environ.get('GLRC_BENCH_DIR') or '/tmp/glrc_bench')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or '').split('\n\n')[0])
    parser.add_argument('--rows', type=int, default=100_000)
    parser.add_argument('--accounts', type=int, default=1000)
    parser.add_argument('--backend', choices=('sqlite', 'postgresql'), default='sqlite')
    parser.add_argument('--work-dir', type=Path, default=default_work_dir())
    args = parser.parse_args(argv)
    data_dir, url, facts = cached(args.work_dir, args.backend, args.rows, accounts=args.accounts)
    print(json.dumps({'data_dir': str(data_dir), 'database_url': url, **facts}, ensure_ascii=False, indent=1))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
