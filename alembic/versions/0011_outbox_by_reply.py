"""outbox rows by the message they answer: deleting inbound messages (a resident's 删除我的信息,
the chatter purge) sets their replies' in_reply_to to NULL, which scanned the whole outbox once
per deleted message

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 03:45:00
"""
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_outbox_in_reply_to', 'outbox', ['in_reply_to'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_outbox_in_reply_to', table_name='outbox')
