"""campaign image and approval

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 06:54:52.389613
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('image_url', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('approved_by', sa.String(length=100), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('approved_by')
        batch_op.drop_column('image_url')

