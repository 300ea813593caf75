"""tickets: the admin-site account that claimed or answered a ticket from the web inbox

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 17:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by_user', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('answered_by_user', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('answered_by_user')
        batch_op.drop_column('claimed_by_user')
