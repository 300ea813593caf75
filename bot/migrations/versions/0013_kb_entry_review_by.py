"""kb entry review_by date

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 17:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('kb_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_by', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('kb_entries', schema=None) as batch_op:
        batch_op.drop_column('review_by')
