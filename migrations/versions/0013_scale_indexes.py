"""indexes the query plans of a 2,000-person organisation asked for: comments by author,
shared lessons

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-06 04:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

from app.infra import migration_guard


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    # The team page reads each report's latest comment (app/services/people/team.py): without
    # this, PostgreSQL scanned every comment (83,331 rows in bench/scale.py's organisation).
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comments_author_id'), ['author_id'], unique=False)
    # The team page's newest shared lessons (app/services/feedback/lessons.py): without this,
    # PostgreSQL scanned all 200,000 evidence items (about 100 ms) for the few shared as lessons.
    shared = sa.text('lesson_shared_at IS NOT NULL')
    op.create_index(
        'ix_evidence_lessons_shared', 'evidence', ['lesson_shared_at', 'id'],
        postgresql_where=shared, sqlite_where=shared,
    )


def downgrade():
    # It drops only indexes, which hold no data of their own: the guard has nothing to refuse.
    migration_guard.refuse_data_loss()
    op.drop_index('ix_evidence_lessons_shared', table_name='evidence')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comments_author_id'))
