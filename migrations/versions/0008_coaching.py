"""coaching between cycles: 1:1s, growth-plan goals, delegation boards, feedback, thanks, lessons

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 14:20:00.000000

"""
import sqlalchemy as sa
from alembic import op

from app.infra import migration_guard

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)
# Children first: the order downgrade() drops them in.
DROPPED_TABLES = ('coaching_links', 'thanks', 'feedback_asks', 'feedback_requests',
                  'delegation_agreements', 'delegation_picks', 'delegation_rounds',
                  'delegation_rows', 'delegation_boards', 'goal_evidence', 'goals',
                  'action_items', 'private_notes', 'agenda_items', 'meetings', 'one_on_ones')


def upgrade():
    _one_on_ones()
    _goals()
    _delegation()
    _feedback()
    _links_and_references()


def _one_on_ones():
    op.create_table(
        'one_on_ones',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('lead_id', sa.Integer(), nullable=True),
        sa.Column('member_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.Enum('manager', 'mentor', name='pairkind', native_enum=False,
                                  length=20), nullable=False),
        sa.Column('cadence', sa.Enum('weekly', 'fortnightly', 'monthly', 'none', name='cadence',
                                     native_enum=False, length=20), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['lead_id'], ['users.id'], name='fk_one_on_ones_lead_id_users',
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['member_id'], ['users.id'],
                                name='fk_one_on_ones_member_id_users', ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name='pk_one_on_ones'),
        sa.UniqueConstraint('lead_id', 'member_id', name='uq_one_on_ones_lead_id_member_id'),
    )
    op.create_index('ix_one_on_ones_lead_id', 'one_on_ones', ['lead_id'])
    op.create_index('ix_one_on_ones_member_id', 'one_on_ones', ['member_id'])
    op.create_table(
        'meetings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('one_on_one_id', sa.Integer(), nullable=False),
        sa.Column('starts_at', UTC, nullable=False),
        sa.Column('duration_minutes', sa.Integer(), nullable=False),
        sa.Column('shared_notes', sa.Text(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('updated_at', UTC, nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['one_on_one_id'], ['one_on_ones.id'],
                                name='fk_meetings_one_on_one_id_one_on_ones', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name='fk_meetings_created_by_id_users', ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name='pk_meetings'),
    )
    op.create_index('ix_meetings_one_on_one_id_starts_at', 'meetings',
                    ['one_on_one_id', 'starts_at'])
    op.create_table(
        'agenda_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('text', sa.String(length=500), nullable=False),
        sa.Column('is_discussed', sa.Boolean(), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'],
                                name='fk_agenda_items_meeting_id_meetings', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'],
                                name='fk_agenda_items_author_id_users', ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name='pk_agenda_items'),
    )
    op.create_index('ix_agenda_items_meeting_id', 'agenda_items', ['meeting_id'])
    op.create_table(
        'private_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('updated_at', UTC, nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'],
                                name='fk_private_notes_meeting_id_meetings', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'],
                                name='fk_private_notes_author_id_users', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_private_notes'),
        sa.UniqueConstraint('meeting_id', 'author_id',
                            name='uq_private_notes_meeting_id_author_id'),
    )
    op.create_index('ix_private_notes_author_id', 'private_notes', ['author_id'])
    op.create_table(
        'action_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('one_on_one_id', sa.Integer(), nullable=False),
        sa.Column('raised_in_id', sa.Integer(), nullable=True),
        sa.Column('owner_id', sa.Integer(), nullable=True),
        sa.Column('text', sa.String(length=500), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=True),
        sa.Column('done_at', UTC, nullable=True),
        sa.Column('done_in_id', sa.Integer(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['one_on_one_id'], ['one_on_ones.id'],
                                name='fk_action_items_one_on_one_id_one_on_ones',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['raised_in_id'], ['meetings.id'],
                                name='fk_action_items_raised_in_id_meetings', ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id'],
                                name='fk_action_items_owner_id_users', ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['done_in_id'], ['meetings.id'],
                                name='fk_action_items_done_in_id_meetings', ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name='fk_action_items_created_by_id_users', ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name='pk_action_items'),
    )
    op.create_index('ix_action_items_one_on_one_id_done_at', 'action_items',
                    ['one_on_one_id', 'done_at'])
    op.create_index('ix_action_items_raised_in_id', 'action_items', ['raised_in_id'])
    op.create_index('ix_action_items_owner_id', 'action_items', ['owner_id'])


def _goals():
    op.create_table(
        'goals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('framework_id', sa.Integer(), nullable=False),
        sa.Column('competency_key', sa.String(length=80), nullable=False),
        sa.Column('target_level_id', sa.Integer(), nullable=True),
        sa.Column('change', sa.Text(), nullable=False),
        sa.Column('measure', sa.Text(), nullable=False),
        sa.Column('target_on', sa.Date(), nullable=True),
        sa.Column('status', sa.Enum('not_started', 'in_progress', 'done', 'dropped',
                                    name='goalstatus', native_enum=False, length=20),
                  nullable=False),
        sa.Column('dropped_reason', sa.Text(), nullable=False),
        sa.Column('outcome', sa.Text(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('agreed_by_id', sa.Integer(), nullable=True),
        sa.Column('agreed_at', UTC, nullable=True),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('updated_at', UTC, nullable=False),
        sa.Column('closed_at', UTC, nullable=True),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['users.id'], name='fk_goals_person_id_users',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['framework_id'], ['frameworks.id'],
                                name='fk_goals_framework_id_frameworks', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['target_level_id'], ['levels.id'],
                                name='fk_goals_target_level_id_levels', ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name='fk_goals_created_by_id_users', ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['agreed_by_id'], ['users.id'],
                                name='fk_goals_agreed_by_id_users', ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name='pk_goals'),
    )
    op.create_index('ix_goals_person_id', 'goals', ['person_id'])
    op.create_table(
        'goal_evidence',
        sa.Column('goal_id', sa.Integer(), nullable=False),
        sa.Column('evidence_id', sa.Integer(), nullable=False),
        sa.Column('linked_at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['goal_id'], ['goals.id'], name='fk_goal_evidence_goal_id_goals',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'],
                                name='fk_goal_evidence_evidence_id_evidence', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('goal_id', 'evidence_id', name='pk_goal_evidence'),
    )
    op.create_index('ix_goal_evidence_evidence_id', 'goal_evidence', ['evidence_id'])
    with op.batch_alter_table('promotion_cycles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('packets_show_goals', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))


def _delegation():
    op.create_table(
        'delegation_boards',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['users.id'],
                                name='fk_delegation_boards_person_id_users', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name='fk_delegation_boards_created_by_id_users',
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name='pk_delegation_boards'),
        sa.UniqueConstraint('person_id', name='uq_delegation_boards_person_id'),
    )
    op.create_table(
        'delegation_rows',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('board_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('decision', sa.Text(), nullable=False),
        sa.Column('role', sa.Enum('driver', 'approver', 'contributor', 'informed',
                                  name='daciroletype', native_enum=False, length=20),
                  nullable=True),
        sa.Column('expected', sa.Integer(), nullable=True),
        sa.Column('decision_right_id', sa.Integer(), nullable=True),
        sa.Column('added_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('removed_at', UTC, nullable=True),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.CheckConstraint('expected IS NULL OR expected BETWEEN 1 AND 7',
                           name='ck_delegation_rows_expected_range'),
        sa.ForeignKeyConstraint(['board_id'], ['delegation_boards.id'],
                                name='fk_delegation_rows_board_id_delegation_boards',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['decision_right_id'], ['decision_rights.id'],
                                name='fk_delegation_rows_decision_right_id_decision_rights',
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['added_by_id'], ['users.id'],
                                name='fk_delegation_rows_added_by_id_users', ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name='pk_delegation_rows'),
    )
    op.create_index('ix_delegation_rows_board_id', 'delegation_rows', ['board_id'])
    op.create_table(
        'delegation_rounds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('board_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('opened_by_id', sa.Integer(), nullable=True),
        sa.Column('opened_at', UTC, nullable=False),
        sa.Column('revealed_at', UTC, nullable=True),
        sa.Column('closed_at', UTC, nullable=True),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['board_id'], ['delegation_boards.id'],
                                name='fk_delegation_rounds_board_id_delegation_boards',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['opened_by_id'], ['users.id'],
                                name='fk_delegation_rounds_opened_by_id_users',
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name='pk_delegation_rounds'),
        sa.UniqueConstraint('board_id', 'number', name='uq_delegation_rounds_board_id_number'),
    )
    op.create_index('ix_delegation_rounds_board_id', 'delegation_rounds', ['board_id'])
    op.create_table(
        'delegation_picks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('row_id', sa.Integer(), nullable=False),
        sa.Column('picker_id', sa.Integer(), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('picked_at', UTC, nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.CheckConstraint('level BETWEEN 1 AND 7', name='ck_delegation_picks_level_range'),
        sa.ForeignKeyConstraint(['round_id'], ['delegation_rounds.id'],
                                name='fk_delegation_picks_round_id_delegation_rounds',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['row_id'], ['delegation_rows.id'],
                                name='fk_delegation_picks_row_id_delegation_rows',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['picker_id'], ['users.id'],
                                name='fk_delegation_picks_picker_id_users', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_delegation_picks'),
        sa.UniqueConstraint('round_id', 'row_id', 'picker_id',
                            name='uq_delegation_picks_round_id_row_id_picker_id'),
    )
    op.create_index('ix_delegation_picks_round_id', 'delegation_picks', ['round_id'])
    op.create_table(
        'delegation_agreements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('row_id', sa.Integer(), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('agreed_by_id', sa.Integer(), nullable=True),
        sa.Column('agreed_at', UTC, nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.CheckConstraint('level BETWEEN 1 AND 7', name='ck_delegation_agreements_level_range'),
        sa.ForeignKeyConstraint(['round_id'], ['delegation_rounds.id'],
                                name='fk_delegation_agreements_round_id_delegation_rounds',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['row_id'], ['delegation_rows.id'],
                                name='fk_delegation_agreements_row_id_delegation_rows',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['agreed_by_id'], ['users.id'],
                                name='fk_delegation_agreements_agreed_by_id_users',
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name='pk_delegation_agreements'),
        sa.UniqueConstraint('round_id', 'row_id',
                            name='uq_delegation_agreements_round_id_row_id'),
    )
    op.create_index('ix_delegation_agreements_round_id', 'delegation_agreements', ['round_id'])


def _feedback():
    op.create_table(
        'feedback_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('requester_id', sa.Integer(), nullable=False),
        sa.Column('framework_id', sa.Integer(), nullable=True),
        sa.Column('competency_keys', sa.JSON(), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=True),
        sa.Column('created_at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['requester_id'], ['users.id'],
                                name='fk_feedback_requests_requester_id_users',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['framework_id'], ['frameworks.id'],
                                name='fk_feedback_requests_framework_id_frameworks',
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name='pk_feedback_requests'),
    )
    op.create_index('ix_feedback_requests_requester_id', 'feedback_requests', ['requester_id'])
    op.create_table(
        'feedback_asks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('giver_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.Enum('pending', 'answered', 'declined', name='askstatus',
                                    native_enum=False, length=20), nullable=False),
        sa.Column('situation', sa.Text(), nullable=False),
        sa.Column('behaviour', sa.Text(), nullable=False),
        sa.Column('impact', sa.Text(), nullable=False),
        sa.Column('answered_at', UTC, nullable=True),
        sa.Column('shared_with_manager_at', UTC, nullable=True),
        sa.Column('shared_with_id', sa.Integer(), nullable=True),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['request_id'], ['feedback_requests.id'],
                                name='fk_feedback_asks_request_id_feedback_requests',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['giver_id'], ['users.id'],
                                name='fk_feedback_asks_giver_id_users', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['shared_with_id'], ['users.id'],
                                name='fk_feedback_asks_shared_with_id_users',
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name='pk_feedback_asks'),
        sa.UniqueConstraint('request_id', 'giver_id',
                            name='uq_feedback_asks_request_id_giver_id'),
    )
    op.create_index('ix_feedback_asks_request_id', 'feedback_asks', ['request_id'])
    op.create_index('ix_feedback_asks_giver_id', 'feedback_asks', ['giver_id'])
    op.create_index('ix_feedback_asks_shared_with_id', 'feedback_asks', ['shared_with_id'])
    op.create_table(
        'thanks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('giver_id', sa.Integer(), nullable=False),
        sa.Column('recipient_id', sa.Integer(), nullable=False),
        sa.Column('message', sa.String(length=500), nullable=False),
        sa.Column('evidence_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['giver_id'], ['users.id'], name='fk_thanks_giver_id_users',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['recipient_id'], ['users.id'],
                                name='fk_thanks_recipient_id_users', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'],
                                name='fk_thanks_evidence_id_evidence', ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name='pk_thanks'),
    )
    op.create_index('ix_thanks_created_at', 'thanks', ['created_at'])
    op.create_index('ix_thanks_recipient_id', 'thanks', ['recipient_id'])
    op.create_index('ix_thanks_evidence_id', 'thanks', ['evidence_id'])


def _links_and_references():
    op.create_table(
        'coaching_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agenda_item_id', sa.Integer(), nullable=False),
        sa.Column('evidence_id', sa.Integer(), nullable=True),
        sa.Column('goal_id', sa.Integer(), nullable=True),
        sa.Column('board_id', sa.Integer(), nullable=True),
        sa.Column('framework_id', sa.Integer(), nullable=True),
        sa.Column('competency_key', sa.String(length=80), nullable=True),
        sa.CheckConstraint(
            '(CASE WHEN evidence_id IS NULL THEN 0 ELSE 1 END)'
            ' + (CASE WHEN goal_id IS NULL THEN 0 ELSE 1 END)'
            ' + (CASE WHEN board_id IS NULL THEN 0 ELSE 1 END)'
            ' + (CASE WHEN competency_key IS NULL THEN 0 ELSE 1 END) = 1',
            name='ck_coaching_links_one_target'),
        sa.ForeignKeyConstraint(['agenda_item_id'], ['agenda_items.id'],
                                name='fk_coaching_links_agenda_item_id_agenda_items',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'],
                                name='fk_coaching_links_evidence_id_evidence',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['goal_id'], ['goals.id'],
                                name='fk_coaching_links_goal_id_goals', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['board_id'], ['delegation_boards.id'],
                                name='fk_coaching_links_board_id_delegation_boards',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['framework_id'], ['frameworks.id'],
                                name='fk_coaching_links_framework_id_frameworks',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_coaching_links'),
    )
    for column in ('agenda_item_id', 'evidence_id', 'goal_id', 'board_id'):
        op.create_index(f'ix_coaching_links_{column}', 'coaching_links', [column])
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lesson_shared_at', UTC, nullable=True))
    references = (
        ('meeting_id', 'meetings'),
        ('goal_id', 'goals'),
        ('round_id', 'delegation_rounds'),
        ('feedback_ask_id', 'feedback_asks'),
        ('thanks_id', 'thanks'),
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        for column, table in references:
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=True))
            batch_op.create_foreign_key(f'fk_notifications_{column}_{table}', table,
                                        [column], ['id'], ondelete='CASCADE')
            batch_op.create_index(f'ix_notifications_{column}', [column])


def downgrade():
    migration_guard.refuse_data_loss(
        tables=DROPPED_TABLES,
        columns={'notifications': ['thanks_id', 'feedback_ask_id', 'round_id', 'goal_id',
                                   'meeting_id'],
                 'evidence': ['lesson_shared_at'],
                 'promotion_cycles': [('packets_show_goals', False)]})
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        for column, table in (('thanks_id', 'thanks'), ('feedback_ask_id', 'feedback_asks'),
                              ('round_id', 'delegation_rounds'), ('goal_id', 'goals'),
                              ('meeting_id', 'meetings')):
            batch_op.drop_index(f'ix_notifications_{column}')
            batch_op.drop_constraint(f'fk_notifications_{column}_{table}', type_='foreignkey')
            batch_op.drop_column(column)
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_column('lesson_shared_at')
    with op.batch_alter_table('promotion_cycles', schema=None) as batch_op:
        batch_op.drop_column('packets_show_goals')
    for table in DROPPED_TABLES:
        op.drop_table(table)
