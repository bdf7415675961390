"""units in submission order across states (the center's 全部 and 待审核 lists): an index on
(submitted_at, id, state), so a page is read in order instead of sorting every unit

Revision ID: 0008
Revises: 0007
"""
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_unit_submitted', 'unit', ['submitted_at', 'id', 'state'])


def downgrade() -> None:
    op.drop_index('ix_unit_submitted', table_name='unit')
