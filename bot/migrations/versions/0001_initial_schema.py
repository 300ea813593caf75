"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 05:44:35.299784
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('areas',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('kb_groups',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=False),
    sa.Column('pillar', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('kb_history',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('entry_id', sa.String(length=64), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('kb_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_history_entry_id'), ['entry_id'], unique=False)

    op.create_table('kb_meta',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('question_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('asked_at', sa.DateTime(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('resident_hash', sa.String(length=64), nullable=False),
    sa.Column('normalized', sa.Text(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('entry_id', sa.String(length=64), nullable=True),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('suggestions', sa.JSON(), nullable=False),
    sa.Column('area_code', sa.String(length=64), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('feedback', sa.String(length=16), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('question_log', schema=None) as batch_op:
        batch_op.create_index('ix_question_log_asked_at', ['asked_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_question_log_resident_hash'), ['resident_hash'], unique=False)

    op.create_table('kb_entries',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('alternates', sa.JSON(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('answer_en', sa.Text(), nullable=False),
    sa.Column('links', sa.JSON(), nullable=False),
    sa.Column('related', sa.JSON(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('sources', sa.JSON(), nullable=False),
    sa.Column('reviewed', sa.Date(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['kb_groups.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('kb_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_entries_status'), ['status'], unique=False)

    op.create_table('residents',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('platform_user_id', sa.String(length=128), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('area_code', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('consent_log_at', sa.DateTime(), nullable=True),
    sa.Column('consent_subscribe_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['area_code'], ['areas.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'platform_user_id', name='uq_resident_channel_user')
    )


def downgrade() -> None:
    op.drop_table('residents')
    with op.batch_alter_table('kb_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_entries_status'))

    op.drop_table('kb_entries')
    with op.batch_alter_table('question_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_question_log_resident_hash'))
        batch_op.drop_index('ix_question_log_asked_at')

    op.drop_table('question_log')
    op.drop_table('kb_meta')
    with op.batch_alter_table('kb_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_history_entry_id'))

    op.drop_table('kb_history')
    op.drop_table('kb_groups')
    op.drop_table('areas')
