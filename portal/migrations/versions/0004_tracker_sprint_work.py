"""tracker sprint work: task links, worklogs, custom fields and their values

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 03:04:21.508784

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tracker_fields',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('type', sa.String(length=10), nullable=False),
    sa.Column('allowed', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['tracker_projects.id'], name=op.f('fk_tracker_fields_project_id_tracker_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracker_fields')),
    sa.UniqueConstraint('project_id', 'name', name=op.f('uq_tracker_fields_project_id_name'))
    )
    op.create_table('tracker_field_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('field_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['field_id'], ['tracker_fields.id'], name=op.f('fk_tracker_field_values_field_id_tracker_fields'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['tracker_tasks.id'], name=op.f('fk_tracker_field_values_task_id_tracker_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracker_field_values')),
    sa.UniqueConstraint('task_id', 'field_id', name=op.f('uq_tracker_field_values_task_id_field_id'))
    )
    with op.batch_alter_table('tracker_field_values', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tracker_field_values_field_id'), ['field_id'], unique=False)

    op.create_table('tracker_task_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('source_id <> target_id', name=op.f('ck_tracker_task_links_not_itself')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_tracker_task_links_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['source_id'], ['tracker_tasks.id'], name=op.f('fk_tracker_task_links_source_id_tracker_tasks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_id'], ['tracker_tasks.id'], name=op.f('fk_tracker_task_links_target_id_tracker_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracker_task_links')),
    sa.UniqueConstraint('source_id', 'target_id', 'kind', name=op.f('uq_tracker_task_links_source_id_target_id_kind'))
    )
    with op.batch_alter_table('tracker_task_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tracker_task_links_target_id'), ['target_id'], unique=False)

    op.create_table('tracker_worklogs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('seconds', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('seconds > 0', name=op.f('ck_tracker_worklogs_positive')),
    sa.ForeignKeyConstraint(['task_id'], ['tracker_tasks.id'], name=op.f('fk_tracker_worklogs_task_id_tracker_tasks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_tracker_worklogs_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracker_worklogs'))
    )
    with op.batch_alter_table('tracker_worklogs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tracker_worklogs_task_id'), ['task_id'], unique=False)
        batch_op.create_index('ix_tracker_worklogs_user_id_started_on', ['user_id', 'started_on'], unique=False)


def downgrade():
    with op.batch_alter_table('tracker_worklogs', schema=None) as batch_op:
        batch_op.drop_index('ix_tracker_worklogs_user_id_started_on')
        batch_op.drop_index(batch_op.f('ix_tracker_worklogs_task_id'))

    op.drop_table('tracker_worklogs')
    with op.batch_alter_table('tracker_task_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tracker_task_links_target_id'))

    op.drop_table('tracker_task_links')
    with op.batch_alter_table('tracker_field_values', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tracker_field_values_field_id'))

    op.drop_table('tracker_field_values')
    op.drop_table('tracker_fields')
