"""competencies get a short name for dense grids; people's seen help is remembered

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 08:50:00.000000

"""
from alembic import op
import sqlalchemy as sa

from app.infra import migration_guard


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    # Existing competencies get '': the grid derives a header from the name until one is set.
    with op.batch_alter_table('competencies', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('short_name', sa.String(length=16), server_default='', nullable=False)
        )
    op.create_table(
        'help_seen',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=60), nullable=False),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'key'),
    )


def downgrade():
    migration_guard.refuse_data_loss(
        tables=['help_seen'],
        columns={
            'competencies': [('short_name', '')],
        },
    )
    op.drop_table('help_seen')
    with op.batch_alter_table('competencies', schema=None) as batch_op:
        batch_op.drop_column('short_name')
