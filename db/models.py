"""SQLModel tables. Times are timezone-aware UTC. Each change of schema is an Alembic migration."""
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import Column, ColumnElement, Index, Text, UniqueConstraint, and_, literal_column, text
from sqlmodel import Field, SQLModel, col

from db.clock import now

ROLES = ('unit', 'person', 'reviewer', 'center')
ROLE_LABELS = {'unit': '单位用户', 'person': '个人用户', 'reviewer': '审核人员', 'center': '市人才服务中心'}
ORG_KINDS = {'district': '城区/县', 'department': '主管部门'}


class _Row(Protocol):
    id: int | None


def saved_id(row: _Row) -> int:
    """The id of a row loaded from the database, or added and flushed: the database has set it by then
    (`id` is optional only so that a new row can be built before it is inserted)."""
    assert row.id is not None, f'{type(row).__name__} has no id yet: flush it first'
    return row.id


class Org(SQLModel, table=True):
    """A review organisation (审核机构): a district/county or a competent department."""
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    kind: str = Field(max_length=20, index=True)
    admin_code: str | None = Field(default=None, max_length=12)
    enabled: bool = True
    sort_order: int = 0
    created_at: datetime = Field(default_factory=now)


class User(SQLModel, table=True):
    """Every login: unit operators, persons, reviewers and center staff."""
    __tablename__ = 'app_user'
    __table_args__ = (   # a person logs in with the phone: one person account per phone
        Index('ux_app_user_person_phone', 'phone', unique=True, sqlite_where=text("role = 'person'"),
              postgresql_where=text("role = 'person'")),
    )
    id: int | None = Field(default=None, primary_key=True)
    role: str = Field(max_length=10, index=True)
    account: str = Field(max_length=64, unique=True)
    phone: str | None = Field(default=None, max_length=11, index=True)
    display_name: str = Field(max_length=50)
    password_hash: str = Field(max_length=255)
    status: str = Field(default='active', max_length=20, index=True)
    is_admin: bool = False
    must_change_password: bool = False
    org_id: int | None = Field(default=None, foreign_key='org.id', index=True)
    unit_id: int | None = Field(default=None, foreign_key='unit.id', index=True)
    avatar_file_id: int | None = Field(default=None)
    failed_logins: int = 0
    locked_until: datetime | None = None
    last_login_at: datetime | None = None
    version: int = 1
    created_at: datetime = Field(default_factory=now, index=True)


def person_phone(phone: str) -> ColumnElement[bool]:
    """The person login with this phone, stated as the partial index ux_app_user_person_phone is: with
    the role as a literal. SQLite uses a partial index only when the query itself states the index's
    WHERE; with `role = ?` it walked ix_app_user_role through every person (430 ms at a million)."""
    return and_(col(User.phone) == phone, col(User.role) == literal_column("'person'"))


class AuthSession(SQLModel, table=True):
    """Server-side session; the browser holds only the random token (its hash is stored)."""
    __tablename__ = 'auth_session'
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key='app_user.id', index=True)
    created_at: datetime = Field(default_factory=now)
    last_seen_at: datetime = Field(default_factory=now)
    revoked_at: datetime | None = None
    revoked_reason: str | None = Field(default=None, max_length=30)
    ip: str | None = Field(default=None, max_length=64)


class AuditLog(SQLModel, table=True):
    """Append-only audit trail (SECURITY L1, L3): no update or delete path exists."""
    __tablename__ = 'audit_log'
    __table_args__ = (Index('ix_audit_log_event_at', 'event', 'at'),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=now, index=True)
    user_id: int | None = Field(default=None, index=True)
    account: str | None = Field(default=None, max_length=64)
    role: str | None = Field(default=None, max_length=10)
    ip: str | None = Field(default=None, max_length=64)
    event: str = Field(max_length=40)
    object: str | None = Field(default=None, max_length=120)
    result: str = Field(default='ok', max_length=20)
    detail: str | None = Field(default=None, sa_column=Column(Text))


class SmsMessage(SQLModel, table=True):
    """Every SMS the gateway sent (center: 短信记录). Codes are masked here."""
    __tablename__ = 'sms_message'
    id: int | None = Field(default=None, primary_key=True)
    phone: str = Field(max_length=11, index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    purpose: str = Field(max_length=20)
    backend: str = Field(default='outbox', max_length=20)
    at: datetime = Field(default_factory=now, index=True)


class SmsCode(SQLModel, table=True):
    """A one-time code, stored hashed, bound to phone and purpose."""
    __tablename__ = 'sms_code'
    __table_args__ = (Index('ix_sms_code_phone_purpose', 'phone', 'purpose', 'created_at'),)
    id: int | None = Field(default=None, primary_key=True)
    phone: str = Field(max_length=11)
    purpose: str = Field(max_length=20)
    code_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=now)
    expires_at: datetime
    used_at: datetime | None = None
    attempts: int = 0


class Notification(SQLModel, table=True):
    """In-app message (消息)."""
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key='app_user.id', index=True)
    title: str = Field(max_length=100)
    body: str = Field(sa_column=Column(Text, nullable=False))
    link: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=now)
    read_at: datetime | None = None


class StoredFile(SQLModel, table=True):
    """An uploaded file on disk under a random name; the original name is data only."""
    __tablename__ = 'stored_file'
    __table_args__ = (UniqueConstraint('stored_name'), Index('ix_stored_file_owner', 'entity', 'entity_id', 'kind'))
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=30)
    entity: str = Field(max_length=20)
    entity_id: int
    uploaded_by: int | None = Field(default=None, foreign_key='app_user.id')
    stored_name: str = Field(max_length=80)
    original_name: str = Field(max_length=255)
    mime: str = Field(max_length=50)
    size: int
    sha256: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=now)
    deleted_at: datetime | None = None


UNIT_TYPES = ('企业', '中区直事业单位', '市直机关事业单位', '其他')
ALLOCATIONS = {'district': '城区', 'department': '主管部门'}


class Unit(SQLModel, table=True):
    """An employer (单位); its state follows the unit machine (glrc_ui/services/units.py)."""
    __table_args__ = (
        Index('ix_unit_org_state_submitted', 'org_id', 'state', 'submitted_at'),
        # a reviewer's list by 单位名称, read in name order within the org (migration 0009)
        Index('ix_unit_org_name', 'org_id', 'name', 'id', 'state'),
        Index('ix_unit_state_submitted', 'state', 'submitted_at'),
        # the center's 全部 / 待审核 across several states, in order: no sort of every row (migration 0008)
        Index('ix_unit_submitted', 'submitted_at', 'id', 'state'),
    )
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, index=True)
    credit_code: str = Field(max_length=18, unique=True)
    unit_type: str | None = Field(default=None, max_length=20)
    allocation: str | None = Field(default=None, max_length=20)
    org_id: int | None = Field(default=None, foreign_key='org.id')
    industry: str | None = Field(default=None, max_length=50)
    address: str | None = Field(default=None, max_length=200)
    legal_rep: str | None = Field(default=None, max_length=50)
    contact_phone: str | None = Field(default=None, max_length=20)
    intro: str | None = Field(default=None, sa_column=Column(Text))
    licence_file_id: int | None = Field(default=None)
    state: str = Field(default='registered', max_length=20)
    version: int = 1
    submitted_at: datetime | None = None
    created_at: datetime = Field(default_factory=now, index=True)
    updated_at: datetime = Field(default_factory=now)


class Person(SQLModel, table=True):
    """A talent working at a unit (个人); its state follows the person machine (glrc_ui/services/persons.py).
    The login (phone, password) is its User row."""
    __table_args__ = (
        Index('ix_person_unit_state_submitted', 'unit_id', 'state', 'submitted_at'),
        # a unit's 全部 list read in its order within the unit: by 提交时间 (the default, drafts' NULLs
        # first), by 姓名; 近 30 天 (created_at) as a range
        Index('ix_person_unit_submitted', 'unit_id', 'submitted_at', 'id'),
        Index('ix_person_unit_created', 'unit_id', 'created_at', 'id'),
        Index('ix_person_unit_name', 'unit_id', 'name', 'id'),
    )
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key='app_user.id', unique=True)
    unit_id: int = Field(foreign_key='unit.id')
    name: str = Field(max_length=50, index=True)
    id_number: str = Field(max_length=18, unique=True)
    gender: str | None = Field(default=None, max_length=2)
    birth_date: date | None = None
    ethnicity: str | None = Field(default=None, max_length=10)
    political_status: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=100)
    education: str | None = Field(default=None, max_length=20)
    degree: str | None = Field(default=None, max_length=10)
    school: str | None = Field(default=None, max_length=100)
    major: str | None = Field(default=None, max_length=100)
    title: str | None = Field(default=None, max_length=50)          # 专业技术职称
    position: str | None = Field(default=None, max_length=50)       # 职务
    work_start: date | None = None                                   # 参加工作时间
    address: str | None = Field(default=None, max_length=200)       # 通讯地址
    created_by_unit: bool = False
    state: str = Field(default='registered', max_length=20)
    version: int = 1
    submitted_at: datetime | None = None
    created_at: datetime = Field(default_factory=now, index=True)
    updated_at: datetime = Field(default_factory=now)


class ReviewRecord(SQLModel, table=True):
    """One workflow transition: who, role, organisation, action, opinion, time, from and to."""
    __tablename__ = 'review_record'
    __table_args__ = (Index('ix_review_record_entity', 'entity', 'entity_id', 'at'),)
    id: int | None = Field(default=None, primary_key=True)
    entity: str = Field(max_length=20)
    entity_id: int
    action: str = Field(max_length=20)
    from_state: str = Field(max_length=20)
    to_state: str = Field(max_length=20)
    actor_id: int | None = Field(default=None, foreign_key='app_user.id')
    actor_role: str = Field(max_length=10)
    actor_name: str = Field(max_length=50)
    org_id: int | None = Field(default=None)
    org_name: str | None = Field(default=None, max_length=100)
    opinion: str | None = Field(default=None, sa_column=Column(Text))
    data: str | None = Field(default=None, sa_column=Column(Text))   # JSON of the values entered with it
    at: datetime = Field(default_factory=now)


LEVELS = ('A', 'B', 'C', 'D', 'E')
# 附件 material types (SPEC §3.6), in the order the form lists them
MATERIAL_TYPES = {'id_card': '身份证', 'diploma': '学历学位证书', 'title_cert': '专业技术职称证书',
                  'contract': '劳动合同或聘用证明', 'social_security': '社保缴纳证明',
                  'achievements': '业绩成果证明材料', 'other': '其他材料'}


class CatalogueVersion(SQLModel, table=True):
    """One version of the recognition catalogue (认定目录). A change is a new version; applications
    keep the version and the clause text they were filed under."""
    __tablename__ = 'catalogue_version'
    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    title: str = Field(max_length=100)
    is_example: bool = False              # the seeded 示例 catalogue, until the center enters the official one
    note: str | None = Field(default=None, max_length=500)
    created_by: int | None = Field(default=None, foreign_key='app_user.id')
    created_at: datetime = Field(default_factory=now)


class CatalogueClause(SQLModel, table=True):
    """A clause of one catalogue version: 层次, code, text and the material types it requires."""
    __tablename__ = 'catalogue_clause'
    __table_args__ = (Index('ix_catalogue_clause_version_level', 'version_id', 'level', 'sort_order'),)
    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key='catalogue_version.id')
    level: str = Field(max_length=1)
    code: str = Field(max_length=20)
    text: str = Field(sa_column=Column(Text, nullable=False))
    materials: str = Field(default='', max_length=200)   # comma-separated MATERIAL_TYPES keys
    sort_order: int = 0


OPEN_APPLICATION = "state NOT IN ('approved', 'rejected', 'deleted')"


class Application(SQLModel, table=True):
    """A high-level talent recognition application (高层次人才认定申报); its state follows the application
    machine (glrc_ui/services/applications.py). Unit, org and the applicant's name and ID are copied
    here at 提交 (the queues filter on them; the full snapshot is `snapshot`)."""
    __table_args__ = (
        # at most one application per person and 层次 that is not final (SPEC §2.3)
        Index('ux_application_open_level', 'person_id', 'level', unique=True,
              sqlite_where=text(OPEN_APPLICATION), postgresql_where=text(OPEN_APPLICATION)),
        # level and applicant_name ride along in the queue indexes: the 层次 and 姓名 filters (and a sort
        # by them) are checked in the index, no table row is read for a row that fails them
        Index('ix_application_state_submitted', 'state', 'submitted_at', 'id', 'level', 'applicant_name'),
        # the center's lists span several states: read in submitted_at order, not every row sorted
        Index('ix_application_submitted', 'submitted_at', 'id', 'state', 'level', 'applicant_name'),
        # a unit's and a reviewer's lists, likewise in submitted_at order within the unit or org
        Index('ix_application_unit_submitted', 'unit_id', 'submitted_at', 'id', 'state', 'level', 'applicant_name'),
        Index('ix_application_org_submitted', 'org_id', 'reached_org', 'submitted_at', 'id', 'state', 'level',
              'applicant_name'),
        # sorted by 姓名: each list read in name order (with the state its filter checks) instead of
        # sorting every row it may list (the center's: 1M rows, 430 ms a page)
        Index('ix_application_name', 'applicant_name', 'id', 'state', 'submitted_at'),
        Index('ix_application_unit_name', 'unit_id', 'applicant_name', 'id', 'state'),
        Index('ix_application_org_name', 'org_id', 'reached_org', 'applicant_name', 'id', 'state'),
        Index('ix_application_person', 'person_id', 'created_at'),
        Index('ix_application_id_number', 'id_number', 'state'),
    )
    id: int | None = Field(default=None, primary_key=True)
    number: str | None = Field(default=None, max_length=20, unique=True)   # 申报编号, set when created
    person_id: int = Field(foreign_key='person.id')
    applicant_user_id: int = Field(foreign_key='app_user.id')
    unit_id: int = Field(foreign_key='unit.id')
    org_id: int | None = Field(default=None, foreign_key='org.id')
    reached_org: bool = False               # has been at the 城区/主管部门 stage (its reviewers see it from then on)
    reached_center: bool = False            # has been at the center's stage (its 已审核 lists only those)
    applicant_name: str = Field(max_length=50)
    id_number: str = Field(max_length=18)
    level: str | None = Field(default=None, max_length=1)                    # 申报层次
    catalogue_version_id: int | None = Field(default=None, foreign_key='catalogue_version.id')
    clause_id: int | None = Field(default=None, foreign_key='catalogue_clause.id')
    clause_code: str | None = Field(default=None, max_length=20)
    clause_text: str | None = Field(default=None, sa_column=Column(Text))
    specialty: str | None = Field(default=None, max_length=200)              # 现从事专业及岗位
    achievements: str | None = Field(default=None, sa_column=Column(Text))   # 主要业绩及成果 (≤ 5000)
    honors: str | None = Field(default=None, sa_column=Column(Text))         # 获奖及荣誉情况
    other_notes: str | None = Field(default=None, sa_column=Column(Text))    # 其他需要说明的情况
    pledge: bool = False                                                     # 本人承诺…
    offline: str | None = Field(default=None, sa_column=Column(Text))        # JSON {material: 线下提交 explanation}
    snapshot: str | None = Field(default=None, sa_column=Column(Text))       # JSON: the person's info at 提交
    granted_level: str | None = Field(default=None, max_length=1)            # 认定层次 (center's 通过)
    certificate_no: str | None = Field(default=None, max_length=30, unique=True)
    state: str = Field(default='draft', max_length=20)
    version: int = 1
    submitted_at: datetime | None = None
    decided_at: datetime | None = None
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)


class ApplicationSubmission(SQLModel, table=True):
    """What was submitted each time (fields, files, 线下提交): a return and resubmission is compared
    with the submission before it (the reviewer's change summary)."""
    __tablename__ = 'application_submission'
    __table_args__ = (Index('ix_application_submission_app', 'application_id', 'id'),)
    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key='application.id')
    at: datetime = Field(default_factory=now)
    content: str = Field(sa_column=Column(Text, nullable=False))


class CertificateSequence(SQLModel, table=True):
    """The last 证书编号 number issued per year and 层次 (GLRC-2026-D-000123); numbers are never reused."""
    __tablename__ = 'certificate_sequence'
    year: int = Field(primary_key=True)
    level: str = Field(primary_key=True, max_length=1)
    last: int = 0
