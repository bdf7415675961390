"""persons (个人) and one person account per phone

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'person',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column('id_number', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column('gender', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column('birth_date', sa.Date(), nullable=True),
        sa.Column('ethnicity', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column('political_status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column('education', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column('degree', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column('school', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column('major', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column('position', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column('work_start', sa.Date(), nullable=True),
        sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column('created_by_unit', sa.Boolean(), nullable=False),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('submitted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id']),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('id_number'),
        sa.UniqueConstraint('user_id'),
    )
    with op.batch_alter_table('person') as batch:
        batch.create_index('ix_person_created_at', ['created_at'], unique=False)
        batch.create_index('ix_person_name', ['name'], unique=False)
        batch.create_index('ix_person_unit_state_submitted', ['unit_id', 'state', 'submitted_at'], unique=False)
    op.create_index('ux_app_user_person_phone', 'app_user', ['phone'], unique=True,
                    sqlite_where=sa.text("role = 'person'"), postgresql_where=sa.text("role = 'person'"))


def downgrade() -> None:
    op.drop_index('ux_app_user_person_phone', table_name='app_user')
    op.drop_table('person')
