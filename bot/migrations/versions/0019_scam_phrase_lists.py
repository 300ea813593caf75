"""scam lists: longer names, for the phrase lists editors now keep too
(`sign.impersonates-bank-or-company`, `word.otp`, `own_request`)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 20:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('scam_lists', schema=None) as batch_op:
        batch_op.alter_column('name', existing_type=sa.String(length=32), type_=sa.String(length=64), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('scam_lists', schema=None) as batch_op:
        batch_op.alter_column('name', existing_type=sa.String(length=64), type_=sa.String(length=32), existing_nullable=False)
