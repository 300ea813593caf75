"""zalo oa tokens and resident interaction

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 08:43:44.601321
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('zalo_oa_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('access_token', sa.Text(), nullable=False),
    sa.Column('refresh_token', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('seed_hash', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_inbound_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('follower', sa.Boolean(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.drop_column('follower')
        batch_op.drop_column('last_inbound_at')

    op.drop_table('zalo_oa_tokens')
