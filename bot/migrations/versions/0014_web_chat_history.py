"""web chat history, uploaded old-units file

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 17:05:00

The web chat's conversation, shown again after a reload, and the old-units CSV an admin
uploaded (issue 19).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chat_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('chat', sa.String(length=128), nullable=False),
    sa.Column('sender', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('buttons', sa.JSON(), nullable=False),
    sa.Column('links', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('chat_history', schema=None) as batch_op:
        batch_op.create_index('ix_chat_history_chat', ['channel', 'chat', 'id'], unique=False)
        batch_op.create_index('ix_chat_history_created_at', ['created_at'], unique=False)


    op.create_table('old_units_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('uploaded_by', sa.String(length=100), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('old_units_file')
    with op.batch_alter_table('chat_history', schema=None) as batch_op:
        batch_op.drop_index('ix_chat_history_created_at')
        batch_op.drop_index('ix_chat_history_chat')
    op.drop_table('chat_history')
