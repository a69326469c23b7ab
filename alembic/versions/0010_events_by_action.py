"""events by action and time: the satisfaction counts read the ratings given from the ticket history

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 19:00:00
"""
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_events_action_at', 'events', ['action', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_events_action_at', table_name='events')
