"""outbox claim index in id order

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 07:04:41.812267
"""

from __future__ import annotations

from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_campaign_status'))
        batch_op.create_index('ix_outbox_campaign_status_id', ['campaign_id', 'status', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_campaign_status_id')
        batch_op.create_index(batch_op.f('ix_outbox_campaign_status'), ['campaign_id', 'status'], unique=False)

