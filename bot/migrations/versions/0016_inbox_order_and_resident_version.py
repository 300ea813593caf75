"""inbox order per resident and resident state version

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 17:45:00

- `inbox.resident`: the platform's user id of the item's sender, so a worker can take a
  resident's oldest unhandled item; `inbox.seq`: the platform's order (Telegram's
  `update_id`, Zalo's event time in milliseconds).
- `residents.version`: bumped by every write of the conversation state; a write based on
  an older read is refused (compare-and-set) and the message handled again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resident', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), nullable=True))
        batch_op.create_index('ix_inbox_resident_order', ['channel', 'resident', 'status', 'seq'], unique=False)
        batch_op.create_index('ix_inbox_channel_seq', ['channel', 'seq'], unique=False)
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.drop_column('version')
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_channel_seq')
        batch_op.drop_index('ix_inbox_resident_order')
        batch_op.drop_column('seq')
        batch_op.drop_column('resident')
