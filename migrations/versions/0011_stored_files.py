"""stored files: file contents kept in the database (RUNGS_FILE_STORAGE=database)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 04:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

from app.infra import migration_guard


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stored_files',
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_stored_files'))
    )
    op.create_table('stored_file_chunks',
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['key'], ['stored_files.key'], name=op.f('fk_stored_file_chunks_key_stored_files'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key', 'number', name=op.f('pk_stored_file_chunks'))
    )


def downgrade():
    # The rows are the files themselves (attachments, packets, job results) when Rungs keeps
    # them in the database: dropping the tables would delete them.
    migration_guard.refuse_data_loss(tables=['stored_file_chunks', 'stored_files'])
    op.drop_table('stored_file_chunks')
    op.drop_table('stored_files')
