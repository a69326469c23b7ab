"""star rating: rating runs, compound ratings, entered items, property reviews, red/black lists

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 17:00:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import bot.models.base  # noqa: F401


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rating_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('starts_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('standard_name', sa.String(length=128), nullable=False),
    sa.Column('standard_version', sa.String(length=64), nullable=False),
    sa.Column('computed_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', bot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by', sa.String(length=64), nullable=True),
    sa.Column('approved_at', bot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('approved_by', sa.String(length=64), nullable=True),
    sa.Column('published_at', bot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rating_runs')),
    sa.UniqueConstraint('period', name=op.f('uq_rating_runs_period'))
    )
    op.create_table('compound_ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('branch_score', sa.Double(), nullable=False),
    sa.Column('property_score', sa.Double(), nullable=True),
    sa.Column('total', sa.Double(), nullable=False),
    sa.Column('computed_stars', sa.Integer(), nullable=False),
    sa.Column('stars', sa.Integer(), nullable=False),
    sa.Column('klass', sa.String(length=16), nullable=False),
    sa.Column('vetoes', sa.JSON(), nullable=False),
    sa.Column('aspects', sa.JSON(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('property_detail', sa.JSON(), nullable=False),
    sa.Column('adjusted_by', sa.String(length=64), nullable=True),
    sa.Column('adjustment_reason', sa.Text(), nullable=True),
    sa.Column('reviewed_by', sa.String(length=64), nullable=True),
    sa.Column('reviewed_at', bot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_compound_ratings_compound_id_compounds')),
    sa.ForeignKeyConstraint(['run_id'], ['rating_runs.id'], name=op.f('fk_compound_ratings_run_id_rating_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compound_ratings')),
    sa.UniqueConstraint('run_id', 'compound_id', name=op.f('uq_compound_ratings_run_id_compound_id'))
    )
    op.create_index(op.f('ix_compound_ratings_compound_id'), 'compound_ratings', ['compound_id'], unique=False)
    op.create_index(op.f('ix_compound_ratings_run_id'), 'compound_ratings', ['run_id'], unique=False)
    op.create_table('rating_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('item_key', sa.String(length=64), nullable=True),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('occurred_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=True),
    sa.Column('deadline', bot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', bot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('withdrawn', sa.Boolean(), nullable=False),
    sa.Column('created_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_rating_entries_compound_id_compounds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rating_entries'))
    )
    op.create_index(op.f('ix_rating_entries_compound_id'), 'rating_entries', ['compound_id'], unique=False)
    op.create_table('property_lists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('board', sa.String(length=8), nullable=False),
    sa.Column('score', sa.Double(), nullable=True),
    sa.Column('complaints', sa.Integer(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('ticket_ids', sa.JSON(), nullable=False),
    sa.Column('created_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_property_lists_compound_id_compounds')),
    sa.ForeignKeyConstraint(['project_id'], ['property_projects.id'], name=op.f('fk_property_lists_project_id_property_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_property_lists')),
    sa.UniqueConstraint('month', 'project_id', name=op.f('uq_property_lists_month_project_id'))
    )
    op.create_index(op.f('ix_property_lists_month'), 'property_lists', ['month'], unique=False)
    op.create_index(op.f('ix_property_lists_project_id'), 'property_lists', ['project_id'], unique=False)
    op.create_table('property_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('form_score', sa.Double(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('submitted_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_by', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_property_reviews_compound_id_compounds')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_property_reviews_person_id_people')),
    sa.ForeignKeyConstraint(['project_id'], ['property_projects.id'], name=op.f('fk_property_reviews_project_id_property_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_property_reviews')),
    sa.UniqueConstraint('project_id', 'period', name=op.f('uq_property_reviews_project_id_period'))
    )
    op.create_index(op.f('ix_property_reviews_project_id'), 'property_reviews', ['project_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_property_reviews_project_id'), table_name='property_reviews')
    op.drop_table('property_reviews')
    op.drop_index(op.f('ix_property_lists_project_id'), table_name='property_lists')
    op.drop_index(op.f('ix_property_lists_month'), table_name='property_lists')
    op.drop_table('property_lists')
    op.drop_index(op.f('ix_rating_entries_compound_id'), table_name='rating_entries')
    op.drop_table('rating_entries')
    op.drop_index(op.f('ix_compound_ratings_run_id'), table_name='compound_ratings')
    op.drop_index(op.f('ix_compound_ratings_compound_id'), table_name='compound_ratings')
    op.drop_table('compound_ratings')
    op.drop_table('rating_runs')
