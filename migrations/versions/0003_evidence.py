"""evidence: items, competency tags, links, revisions, attachments, comments, kudos, corroborations, notifications; settings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 06:17:04.896782

"""
from alembic import op
import sqlalchemy as sa

from app.infra import migration_guard


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.Enum('launch', 'experiment', 'metric', 'discovery', 'strategy', 'stakeholder', 'coaching', 'learning_from_failure', 'other', name='evidencekind', native_enum=False, length=30), nullable=False),
    sa.Column('visibility', sa.Enum('private', 'shared', name='visibility', native_enum=False, length=30), nullable=False),
    sa.Column('metric', sa.String(length=200), nullable=False),
    sa.Column('metric_before', sa.String(length=60), nullable=False),
    sa.Column('metric_after', sa.String(length=60), nullable=False),
    sa.Column('metric_unit', sa.String(length=30), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shared_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_evidence_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence'))
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_deleted_at'), ['deleted_at'], unique=False)
        batch_op.create_index('ix_evidence_owner_id_occurred_on', ['owner_id', 'occurred_on'], unique=False)

    op.create_table('settings',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_settings_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )
    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evidence_id', sa.Integer(), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_attachments_evidence_id_evidence'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_attachments_stored_name'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_evidence_id'), ['evidence_id'], unique=False)

    op.create_table('comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evidence_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_comments_author_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_comments_evidence_id_evidence'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['comments.id'], name=op.f('fk_comments_parent_id_comments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comments'))
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comments_evidence_id'), ['evidence_id'], unique=False)

    op.create_table('corroborations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evidence_id', sa.Integer(), nullable=False),
    sa.Column('peer_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'confirmed', 'declined', name='corroborationstatus', native_enum=False, length=30), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_corroborations_evidence_id_evidence'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['peer_id'], ['users.id'], name=op.f('fk_corroborations_peer_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_corroborations')),
    sa.UniqueConstraint('evidence_id', 'peer_id', name=op.f('uq_corroborations_evidence_id_peer_id'))
    )
    with op.batch_alter_table('corroborations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_corroborations_evidence_id'), ['evidence_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_corroborations_peer_id'), ['peer_id'], unique=False)

    op.create_table('evidence_competencies',
    sa.Column('evidence_id', sa.Integer(), nullable=False),
    sa.Column('framework_id', sa.Integer(), nullable=False),
    sa.Column('competency_key', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_evidence_competencies_evidence_id_evidence'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['framework_id'], ['frameworks.id'], name=op.f('fk_evidence_competencies_framework_id_frameworks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('evidence_id', 'framework_id', 'competency_key', name=op.f('pk_evidence_competencies'))
    )
    with op.batch_alter_table('evidence_competencies', schema=None) as batch_op:
        batch_op.create_index('ix_evidence_competencies_key', ['framework_id', 'competency_key'], unique=False)

    op.create_table('evidence_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evidence_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_evidence_links_evidence_id_evidence'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_links'))
    )
    with op.batch_alter_table('evidence_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_links_evidence_id'), ['evidence_id'], unique=False)

    op.create_table('evidence_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evidence_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_evidence_revisions_changed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_evidence_revisions_evidence_id_evidence'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_revisions')),
    sa.UniqueConstraint('evidence_id', 'number', name=op.f('uq_evidence_revisions_evidence_id_number'))
    )
    op.create_table('kudos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evidence_id', sa.Integer(), nullable=False),
    sa.Column('giver_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_kudos_evidence_id_evidence'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['giver_id'], ['users.id'], name=op.f('fk_kudos_giver_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kudos')),
    sa.UniqueConstraint('evidence_id', 'giver_id', name=op.f('uq_kudos_evidence_id_giver_id'))
    )
    with op.batch_alter_table('kudos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kudos_evidence_id'), ['evidence_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('evidence_shared', 'comment', 'kudos', 'corroboration_requested', 'corroboration_answered', name='notificationkind', native_enum=False, length=30), nullable=False),
    sa.Column('evidence_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_notifications_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_notifications_evidence_id_evidence'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['users.id'], name=op.f('fk_notifications_recipient_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_evidence_id'), ['evidence_id'], unique=False)
        batch_op.create_index('ix_notifications_recipient_unread', ['recipient_id', 'read_at'], unique=False)



def downgrade():
    migration_guard.refuse_data_loss(
        tables=['notifications', 'kudos', 'evidence_revisions', 'evidence_links',
                'evidence_competencies', 'corroborations', 'comments', 'attachments', 'settings',
                'evidence'],
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_recipient_unread')
        batch_op.drop_index(batch_op.f('ix_notifications_evidence_id'))

    op.drop_table('notifications')
    with op.batch_alter_table('kudos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kudos_evidence_id'))

    op.drop_table('kudos')
    op.drop_table('evidence_revisions')
    with op.batch_alter_table('evidence_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_links_evidence_id'))

    op.drop_table('evidence_links')
    with op.batch_alter_table('evidence_competencies', schema=None) as batch_op:
        batch_op.drop_index('ix_evidence_competencies_key')

    op.drop_table('evidence_competencies')
    with op.batch_alter_table('corroborations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_corroborations_peer_id'))
        batch_op.drop_index(batch_op.f('ix_corroborations_evidence_id'))

    op.drop_table('corroborations')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comments_evidence_id'))

    op.drop_table('comments')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_evidence_id'))

    op.drop_table('attachments')
    op.drop_table('settings')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index('ix_evidence_owner_id_occurred_on')
        batch_op.drop_index(batch_op.f('ix_evidence_deleted_at'))

    op.drop_table('evidence')
