"""kb entry pending draft

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('kb_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('draft', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('draft_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('draft_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('kb_entries', schema=None) as batch_op:
        batch_op.drop_column('draft_at')
        batch_op.drop_column('draft_by')
        batch_op.drop_column('draft')
