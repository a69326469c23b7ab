"""scale-out: room bindings, account leases

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 16:15:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import bot.models.base  # noqa: F401


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chat_groups") as batch:
        batch.add_column(sa.Column("in_room", sa.Boolean(), nullable=True))
    # Rows inactive before now were left, dead or served elsewhere: count them as not in the room;
    # active rows keep serving until their account reports (in_room stays unknown).
    op.execute(sa.text("UPDATE chat_groups SET in_room = :no WHERE active = :no").bindparams(no=False))
    # Older versions could leave two active rows for one room: keep the bound one, else the oldest.
    op.execute(sa.text(
        "UPDATE chat_groups SET active = :no WHERE active = :yes AND EXISTS ("
        " SELECT 1 FROM chat_groups o WHERE o.platform_id = chat_groups.platform_id AND o.active = :yes"
        " AND ((o.compound_id IS NOT NULL AND chat_groups.compound_id IS NULL)"
        "  OR ((o.compound_id IS NULL) = (chat_groups.compound_id IS NULL) AND o.id < chat_groups.id)))"
    ).bindparams(yes=True, no=False))
    op.create_index("uq_chat_groups_active_room", "chat_groups", ["platform_id"], unique=True,
                    postgresql_where=sa.text("active"), sqlite_where=sa.text("active"))


def downgrade() -> None:
    op.drop_index("uq_chat_groups_active_room", table_name="chat_groups")
    with op.batch_alter_table("chat_groups") as batch:
        batch.drop_column("in_room")
