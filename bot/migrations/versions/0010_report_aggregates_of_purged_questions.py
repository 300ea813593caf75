"""report aggregates of purged questions

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 08:45:14.744692

Daily anonymous aggregates that keep report figures after question-log rows are purged.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_gaps_daily',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('area_code', sa.String(length=64), nullable=False),
    sa.Column('normalized', sa.Text(), nullable=False),
    sa.Column('questions', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name='pk_report_gaps_daily')
    )
    with op.batch_alter_table('report_gaps_daily', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_gaps_daily_day'), ['day'], unique=False)

    op.create_table('report_questions_daily',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('area_code', sa.String(length=64), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('entry_id', sa.String(length=64), nullable=False),
    sa.Column('questions', sa.Integer(), nullable=False),
    sa.Column('rated_up', sa.Integer(), nullable=False),
    sa.Column('rated_down', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name='pk_report_questions_daily'),
    sa.UniqueConstraint('day', 'channel', 'area_code', 'decision', 'entry_id', name='uq_report_questions_daily')
    )
    with op.batch_alter_table('report_questions_daily', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_questions_daily_day'), ['day'], unique=False)

    op.create_table('report_residents_daily',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('area_code', sa.String(length=64), nullable=False),
    sa.Column('residents', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name='pk_report_residents_daily'),
    sa.UniqueConstraint('day', 'channel', 'area_code', name='uq_report_residents_daily')
    )
    with op.batch_alter_table('report_residents_daily', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_residents_daily_day'), ['day'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('report_residents_daily', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_residents_daily_day'))

    op.drop_table('report_residents_daily')
    with op.batch_alter_table('report_questions_daily', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_questions_daily_day'))

    op.drop_table('report_questions_daily')
    with op.batch_alter_table('report_gaps_daily', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_gaps_daily_day'))

    op.drop_table('report_gaps_daily')
