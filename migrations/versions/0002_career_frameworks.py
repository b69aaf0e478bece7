"""career frameworks: versions, tracks, levels, competencies, expectations; people's levels

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 06:05:38.324930

"""
from alembic import op
import sqlalchemy as sa

from app.infra import migration_guard


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('frameworks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_frameworks')),
    sa.UniqueConstraint('slug', name=op.f('uq_frameworks_slug'))
    )

    op.create_table('framework_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('framework_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'published', 'archived', name='versionstatus', native_enum=False, length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('changelog', sa.Text(), nullable=False),
    sa.Column('based_on_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['based_on_id'], ['framework_versions.id'], name=op.f('fk_framework_versions_based_on_id_framework_versions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_framework_versions_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['framework_id'], ['frameworks.id'], name=op.f('fk_framework_versions_framework_id_frameworks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_framework_versions')),
    sa.UniqueConstraint('framework_id', 'number', name=op.f('uq_framework_versions_framework_id_number'))
    )
    with op.batch_alter_table('framework_versions', schema=None) as batch_op:
        batch_op.create_index('uq_framework_versions_one_published', ['framework_id'], unique=True, sqlite_where=sa.text("status = 'published'"), postgresql_where=sa.text("status = 'published'"))

    op.create_table('tracks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['framework_versions.id'], name=op.f('fk_tracks_version_id_framework_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracks')),
    sa.UniqueConstraint('version_id', 'key', name=op.f('uq_tracks_version_id_key'))
    )
    with op.batch_alter_table('tracks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tracks_version_id'), ['version_id'], unique=False)

    op.create_table('levels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('typical_experience', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], name=op.f('fk_levels_track_id_tracks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['framework_versions.id'], name=op.f('fk_levels_version_id_framework_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_levels')),
    sa.UniqueConstraint('version_id', 'code', name=op.f('uq_levels_version_id_code'))
    )
    with op.batch_alter_table('levels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_levels_track_id'), ['track_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_levels_version_id'), ['version_id'], unique=False)

    op.create_table('decision_rights',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('level_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('decision', sa.Text(), nullable=False),
    sa.Column('role', sa.Enum('driver', 'approver', 'contributor', 'informed', name='dacirole', native_enum=False, length=20), nullable=False),
    sa.Column('delegation', sa.Integer(), nullable=False),
    sa.CheckConstraint('delegation BETWEEN 1 AND 7', name=op.f('ck_decision_rights_delegation_range')),
    sa.ForeignKeyConstraint(['level_id'], ['levels.id'], name=op.f('fk_decision_rights_level_id_levels'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision_rights'))
    )
    with op.batch_alter_table('decision_rights', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_rights_level_id'), ['level_id'], unique=False)

    op.create_table('competency_areas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['framework_versions.id'], name=op.f('fk_competency_areas_version_id_framework_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_competency_areas')),
    sa.UniqueConstraint('version_id', 'key', name=op.f('uq_competency_areas_version_id_key'))
    )
    with op.batch_alter_table('competency_areas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_competency_areas_version_id'), ['version_id'], unique=False)

    op.create_table('competencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['competency_areas.id'], name=op.f('fk_competencies_area_id_competency_areas'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['framework_versions.id'], name=op.f('fk_competencies_version_id_framework_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_competencies')),
    sa.UniqueConstraint('version_id', 'key', name=op.f('uq_competencies_version_id_key'))
    )
    with op.batch_alter_table('competencies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_competencies_area_id'), ['area_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_competencies_version_id'), ['version_id'], unique=False)

    op.create_table('competency_tracks',
    sa.Column('competency_id', sa.Integer(), nullable=False),
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['competency_id'], ['competencies.id'], name=op.f('fk_competency_tracks_competency_id_competencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], name=op.f('fk_competency_tracks_track_id_tracks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('competency_id', 'track_id', name=op.f('pk_competency_tracks'))
    )

    op.create_table('expectations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('competency_id', sa.Integer(), nullable=False),
    sa.Column('level_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('defined', 'empty', 'not_applicable', name='cellstatus', native_enum=False, length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['competency_id'], ['competencies.id'], name=op.f('fk_expectations_competency_id_competencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['level_id'], ['levels.id'], name=op.f('fk_expectations_level_id_levels'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expectations')),
    sa.UniqueConstraint('competency_id', 'level_id', name=op.f('uq_expectations_competency_id_level_id'))
    )
    with op.batch_alter_table('expectations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expectations_competency_id'), ['competency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_expectations_level_id'), ['level_id'], unique=False)

    op.create_table('indicators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expectation_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('criterion', 'example', 'signal', name='indicatorkind', native_enum=False, length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['expectation_id'], ['expectations.id'], name=op.f('fk_indicators_expectation_id_expectations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicators'))
    )
    with op.batch_alter_table('indicators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicators_expectation_id'), ['expectation_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('level_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_level_id'), ['level_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_users_level_id_levels'), 'levels', ['level_id'], ['id'], ondelete='RESTRICT')


def downgrade():
    migration_guard.refuse_data_loss(
        tables=['indicators', 'expectations', 'competency_tracks', 'competencies',
                'competency_areas', 'decision_rights', 'levels', 'tracks', 'framework_versions',
                'frameworks'],
        columns={
            'users': ['level_id'],
        },
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_users_level_id_levels'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_users_level_id'))
        batch_op.drop_column('level_id')

    with op.batch_alter_table('indicators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicators_expectation_id'))

    op.drop_table('indicators')
    with op.batch_alter_table('expectations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expectations_level_id'))
        batch_op.drop_index(batch_op.f('ix_expectations_competency_id'))

    op.drop_table('expectations')
    op.drop_table('competency_tracks')
    with op.batch_alter_table('competencies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_competencies_version_id'))
        batch_op.drop_index(batch_op.f('ix_competencies_area_id'))

    op.drop_table('competencies')
    with op.batch_alter_table('competency_areas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_competency_areas_version_id'))

    op.drop_table('competency_areas')
    with op.batch_alter_table('decision_rights', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_rights_level_id'))

    op.drop_table('decision_rights')
    with op.batch_alter_table('levels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_levels_version_id'))
        batch_op.drop_index(batch_op.f('ix_levels_track_id'))

    op.drop_table('levels')
    with op.batch_alter_table('tracks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tracks_version_id'))

    op.drop_table('tracks')
    with op.batch_alter_table('framework_versions', schema=None) as batch_op:
        batch_op.drop_index('uq_framework_versions_one_published', sqlite_where=sa.text("status = 'published'"), postgresql_where=sa.text("status = 'published'"))

    op.drop_table('framework_versions')
    op.drop_table('frameworks')
