"""recognition catalogue (认定目录, versioned), applications (高层次人才认定申报), their submissions and
the 证书编号 sequence

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString
UTC = sqlmodel.sql.sqltypes.UTCDateTime
OPEN = "state NOT IN ('approved', 'rejected', 'deleted')"


def upgrade() -> None:
    op.create_table(
        'catalogue_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('title', S(length=100), nullable=False),
        sa.Column('is_example', sa.Boolean(), nullable=False),
        sa.Column('note', S(length=500), nullable=True),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', UTC(), nullable=False),
        sa.ForeignKeyConstraint(['created_by'], ['app_user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('number'),
    )
    op.create_table(
        'catalogue_clause',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('level', S(length=1), nullable=False),
        sa.Column('code', S(length=20), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('materials', S(length=200), nullable=False),
        sa.Column('sort_order', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['version_id'], ['catalogue_version.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_catalogue_clause_version_level', 'catalogue_clause', ['version_id', 'level', 'sort_order'])
    op.create_table(
        'application',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', S(length=20), nullable=True),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('applicant_user_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=True),
        sa.Column('reached_org', sa.Boolean(), nullable=False),
        sa.Column('reached_center', sa.Boolean(), nullable=False),
        sa.Column('applicant_name', S(length=50), nullable=False),
        sa.Column('id_number', S(length=18), nullable=False),
        sa.Column('level', S(length=1), nullable=True),
        sa.Column('catalogue_version_id', sa.Integer(), nullable=True),
        sa.Column('clause_id', sa.Integer(), nullable=True),
        sa.Column('clause_code', S(length=20), nullable=True),
        sa.Column('clause_text', sa.Text(), nullable=True),
        sa.Column('specialty', S(length=200), nullable=True),
        sa.Column('achievements', sa.Text(), nullable=True),
        sa.Column('honors', sa.Text(), nullable=True),
        sa.Column('other_notes', sa.Text(), nullable=True),
        sa.Column('pledge', sa.Boolean(), nullable=False),
        sa.Column('offline', sa.Text(), nullable=True),
        sa.Column('snapshot', sa.Text(), nullable=True),
        sa.Column('granted_level', S(length=1), nullable=True),
        sa.Column('certificate_no', S(length=30), nullable=True),
        sa.Column('state', S(length=20), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('submitted_at', UTC(), nullable=True),
        sa.Column('decided_at', UTC(), nullable=True),
        sa.Column('created_at', UTC(), nullable=False),
        sa.Column('updated_at', UTC(), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['person.id']),
        sa.ForeignKeyConstraint(['applicant_user_id'], ['app_user.id']),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id']),
        sa.ForeignKeyConstraint(['org_id'], ['org.id']),
        sa.ForeignKeyConstraint(['catalogue_version_id'], ['catalogue_version.id']),
        sa.ForeignKeyConstraint(['clause_id'], ['catalogue_clause.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('number'),
        sa.UniqueConstraint('certificate_no'),
    )
    op.create_index('ux_application_open_level', 'application', ['person_id', 'level'], unique=True,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    op.create_index('ix_application_state_submitted', 'application',
                    ['state', 'submitted_at', 'id', 'level', 'applicant_name'])
    op.create_index('ix_application_submitted', 'application',
                    ['submitted_at', 'id', 'state', 'level', 'applicant_name'])
    op.create_index('ix_application_unit_submitted', 'application',
                    ['unit_id', 'submitted_at', 'id', 'state', 'level', 'applicant_name'])
    op.create_index('ix_application_org_submitted', 'application',
                    ['org_id', 'reached_org', 'submitted_at', 'id', 'state', 'level', 'applicant_name'])
    op.create_index('ix_application_person', 'application', ['person_id', 'created_at'])
    op.create_index('ix_application_id_number', 'application', ['id_number', 'state'])
    op.create_table(
        'application_submission',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('at', UTC(), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], ['application.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_application_submission_app', 'application_submission', ['application_id', 'id'])
    op.create_table(
        'certificate_sequence',
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('level', S(length=1), nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('year', 'level'),
    )


def downgrade() -> None:
    op.drop_table('certificate_sequence')
    op.drop_table('application_submission')
    op.drop_table('application')
    op.drop_table('catalogue_clause')
    op.drop_table('catalogue_version')
