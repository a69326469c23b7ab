"""web hardening: no schema change (throttling and proxies need none); an empty step kept so
the revision chain that later steps name stays as it was when they were written

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 16:15:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import bot.models.base  # noqa: F401


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
