"""notifications keep what their message needs: the phase moved to, the decision recorded

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 07:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

from app.infra import migration_guard


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    # Existing rows keep NULL: the inbox words them as before ("moved H1 2027 on").
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('detail', sa.String(length=40), nullable=True))


def downgrade():
    migration_guard.refuse_data_loss(
        columns={
            'notifications': ['detail'],
        },
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('detail')
