"""teams, members, invites, ticket lifecycle, deliveries

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 06:28:08.701955
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('chat', sa.String(length=128), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deliveries_chat'), ['chat'], unique=False)

    op.create_table('teams',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('area_code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['area_code'], ['areas.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('area_code')
    )
    op.create_table('team_invites',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('team_members',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('platform_user_id', sa.String(length=128), nullable=False),
    sa.Column('chat', sa.String(length=128), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False, server_default=''),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('joined_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'platform_user_id', name='uq_member_channel_user')
    )
    with op.batch_alter_table('team_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_members_team_id'), ['team_id'], unique=False)

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('display_name', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('team_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('answer', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('answered_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('answered_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('escalated_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('proposed_entry_id', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_tickets_team_id'), ['team_id'], unique=False)
        batch_op.create_foreign_key('fk_tickets_team_id', 'teams', ['team_id'], ['id'])
        batch_op.create_foreign_key('fk_tickets_claimed_by', 'team_members', ['claimed_by'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key('fk_tickets_answered_by', 'team_members', ['answered_by'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_constraint('fk_tickets_answered_by', type_='foreignkey')
        batch_op.drop_constraint('fk_tickets_claimed_by', type_='foreignkey')
        batch_op.drop_constraint('fk_tickets_team_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_tickets_team_id'))
        batch_op.drop_column('proposed_entry_id')
        batch_op.drop_column('escalated_at')
        batch_op.drop_column('reminded_at')
        batch_op.drop_column('answered_at')
        batch_op.drop_column('answered_by')
        batch_op.drop_column('answer')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('team_id')
        batch_op.drop_column('display_name')

    with op.batch_alter_table('team_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_members_team_id'))

    op.drop_table('team_members')
    op.drop_table('team_invites')
    op.drop_table('teams')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deliveries_chat'))

    op.drop_table('deliveries')
