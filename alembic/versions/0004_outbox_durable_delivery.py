"""outbox: durable limits, in-flight sends, waiting for a connection

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 16:15:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import bot.models.base  # noqa: F401


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outbox_account_pauses',
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('paused_until', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('pause_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('account', name=op.f('pk_outbox_account_pauses'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempted_at', bot.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('escalated_at', bot.models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('escalated_at')
        batch_op.drop_column('attempted_at')
    op.drop_table('outbox_account_pauses')
