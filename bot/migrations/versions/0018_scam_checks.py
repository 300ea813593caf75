"""scam checks: counts of checked messages (no text) for the city's reports, and the
editors' versions of the checker's lists

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 17:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'scam_checks',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('checked_at', sa.DateTime(), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('area_code', sa.String(length=64), nullable=True),
        sa.Column('verdict', sa.String(length=16), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('signs', sa.JSON(), nullable=False),
        sa.Column('forwarded', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('scam_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scam_checks_checked_at'), ['checked_at'], unique=False)
    op.create_table(
        'scam_lists',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('items', sa.JSON(), nullable=False),
        sa.Column('updated_by', sa.String(length=100), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade() -> None:
    op.drop_table('scam_lists')
    with op.batch_alter_table('scam_checks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scam_checks_checked_at'))
    op.drop_table('scam_checks')
