"""tickets by compound, category and time: the duplicate check of every report read all of the
compound's open tickets and sorted them

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 07:30:00
"""
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_tickets_compound_category_created', 'tickets', ['compound_id', 'category', 'created_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_tickets_compound_category_created', table_name='tickets')
