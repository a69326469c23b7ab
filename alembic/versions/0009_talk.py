"""talk: ticket media (photos/videos), the reporter's roster address, wishes offered again

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 17:30:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import bot.models.base  # noqa: F401


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ticket_media',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('platform_message_id', sa.String(length=128), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('mime', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=256), nullable=False),
    sa.Column('created_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['chat_groups.id'], name=op.f('fk_ticket_media_group_id_chat_groups')),
    sa.ForeignKeyConstraint(['message_id'], ['inbound_messages.id'], name=op.f('fk_ticket_media_message_id_inbound_messages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_ticket_media_person_id_people')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_media_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_media'))
    )
    op.create_index('ix_ticket_media_waiting', 'ticket_media', ['group_id', 'person_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_ticket_media_ticket_id'), 'ticket_media', ['ticket_id'], unique=False)
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('reporter_address', sa.String(length=64), nullable=True))
    with op.batch_alter_table('wishes') as batch:
        batch.add_column(sa.Column('release_count', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('reoffered_at', bot.models.base.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('escalated_at', bot.models.base.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('hold_until', bot.models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('wishes') as batch:
        batch.drop_column('hold_until')
        batch.drop_column('escalated_at')
        batch.drop_column('reoffered_at')
        batch.drop_column('release_count')
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('reporter_address')
    op.drop_index(op.f('ix_ticket_media_ticket_id'), table_name='ticket_media')
    op.drop_index('ix_ticket_media_waiting', table_name='ticket_media')
    op.drop_table('ticket_media')
