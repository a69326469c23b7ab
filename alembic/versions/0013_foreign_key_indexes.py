"""indexes under the foreign keys the database follows on a delete, and a person's contacts by
account

Every foreign key with ON DELETE is looked up in its table whenever a row it points to is
deleted: the chatter purge and a resident's 删除我的信息 delete inbound messages, and each one
scanned tickets, ticket reporters, ticket media and collection answers whole. A person's contacts
on one account (private texts, mentions) were read through the account's index, i.e. every
contact of the account.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 08:00:00
"""
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# (index, table, column): each a foreign key with ON DELETE, which had no index of its own.
FOREIGN_KEYS = (
    ('ix_tickets_source_message_id', 'tickets', 'source_message_id'),
    ('ix_ticket_reporters_message_id', 'ticket_reporters', 'message_id'),
    ('ix_ticket_media_message_id', 'ticket_media', 'message_id'),
    ('ix_collection_answers_message_id', 'collection_answers', 'message_id'),
    ('ix_notice_acks_delivery_id', 'notice_acks', 'delivery_id'),
    ('ix_invites_person_id', 'invites', 'person_id'),
    ('ix_web_users_person_id', 'web_users', 'person_id'),
    ('ix_web_user_scopes_compound_id', 'web_user_scopes', 'compound_id'),
    ('ix_web_user_scopes_community_id', 'web_user_scopes', 'community_id'),
)


def upgrade() -> None:
    for name, table, column in FOREIGN_KEYS:
        op.create_index(name, table, [column], unique=False)
    op.create_index('ix_identities_person_account', 'identities', ['person_id', 'account'], unique=False)
    op.drop_index('ix_identities_person_id', table_name='identities')  # the new one leads with person_id


def downgrade() -> None:
    op.create_index('ix_identities_person_id', 'identities', ['person_id'], unique=False)
    op.drop_index('ix_identities_person_account', table_name='identities')
    for name, table, _column in reversed(FOREIGN_KEYS):
        op.drop_index(name, table_name=table)
