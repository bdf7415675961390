"""lists read in their own order at a million rows: a reviewer's units by 单位名称; a unit's persons by
提交时间 and by 姓名 (全部), 近 30 天 as a range of created_at; applications by 姓名 for the center, a
unit and a reviewer

Revision ID: 0009
Revises: 0008
"""
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

INDEXES = (
    ('ix_unit_org_name', 'unit', ['org_id', 'name', 'id', 'state']),
    ('ix_person_unit_submitted', 'person', ['unit_id', 'submitted_at', 'id']),
    ('ix_person_unit_created', 'person', ['unit_id', 'created_at', 'id']),
    ('ix_person_unit_name', 'person', ['unit_id', 'name', 'id']),
    ('ix_application_name', 'application', ['applicant_name', 'id', 'state', 'submitted_at']),
    ('ix_application_unit_name', 'application', ['unit_id', 'applicant_name', 'id', 'state']),
    ('ix_application_org_name', 'application', ['org_id', 'reached_org', 'applicant_name', 'id', 'state']),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
