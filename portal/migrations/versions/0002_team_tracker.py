"""team tracker: projects, statuses, sprints, tasks, comments and task history

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 04:42:25.478369

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tracker_projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_task_number', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_tracker_projects_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracker_projects')),
    sa.UniqueConstraint('key', name=op.f('uq_tracker_projects_key'))
    )
    op.create_table('tracker_sprints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('goal', sa.Text(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['tracker_projects.id'], name=op.f('fk_tracker_sprints_project_id_tracker_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracker_sprints'))
    )
    with op.batch_alter_table('tracker_sprints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tracker_sprints_project_id'), ['project_id'], unique=False)

    op.create_table('tracker_statuses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['tracker_projects.id'], name=op.f('fk_tracker_statuses_project_id_tracker_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracker_statuses')),
    sa.UniqueConstraint('project_id', 'name', name=op.f('uq_tracker_statuses_project_id_name'))
    )
    op.create_table('tracker_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('status_id', sa.Integer(), nullable=False),
    sa.Column('priority', sa.String(length=10), nullable=False),
    sa.Column('type', sa.String(length=10), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('reporter_id', sa.Integer(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('estimate_hours', sa.Float(), nullable=True),
    sa.Column('story_points', sa.Float(), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('epic_id', sa.Integer(), nullable=True),
    sa.Column('sprint_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_tracker_tasks_assignee_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['epic_id'], ['tracker_tasks.id'], name=op.f('fk_tracker_tasks_epic_id_tracker_tasks'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['parent_id'], ['tracker_tasks.id'], name=op.f('fk_tracker_tasks_parent_id_tracker_tasks'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['tracker_projects.id'], name=op.f('fk_tracker_tasks_project_id_tracker_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], name=op.f('fk_tracker_tasks_reporter_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sprint_id'], ['tracker_sprints.id'], name=op.f('fk_tracker_tasks_sprint_id_tracker_sprints'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['status_id'], ['tracker_statuses.id'], name=op.f('fk_tracker_tasks_status_id_tracker_statuses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracker_tasks')),
    sa.UniqueConstraint('project_id', 'number', name=op.f('uq_tracker_tasks_project_id_number'))
    )
    with op.batch_alter_table('tracker_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tracker_tasks_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tracker_tasks_epic_id'), ['epic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tracker_tasks_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tracker_tasks_sprint_id'), ['sprint_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tracker_tasks_status_id'), ['status_id'], unique=False)

    op.create_table('tracker_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_tracker_comments_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['task_id'], ['tracker_tasks.id'], name=op.f('fk_tracker_comments_task_id_tracker_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracker_comments'))
    )
    with op.batch_alter_table('tracker_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tracker_comments_task_id'), ['task_id'], unique=False)

    op.create_table('tracker_task_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['task_id'], ['tracker_tasks.id'], name=op.f('fk_tracker_task_changes_task_id_tracker_tasks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_tracker_task_changes_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracker_task_changes'))
    )
    with op.batch_alter_table('tracker_task_changes', schema=None) as batch_op:
        batch_op.create_index('ix_tracker_task_changes_task_id_at', ['task_id', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('tracker_task_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_tracker_task_changes_task_id_at')

    op.drop_table('tracker_task_changes')
    with op.batch_alter_table('tracker_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tracker_comments_task_id'))

    op.drop_table('tracker_comments')
    with op.batch_alter_table('tracker_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tracker_tasks_status_id'))
        batch_op.drop_index(batch_op.f('ix_tracker_tasks_sprint_id'))
        batch_op.drop_index(batch_op.f('ix_tracker_tasks_parent_id'))
        batch_op.drop_index(batch_op.f('ix_tracker_tasks_epic_id'))
        batch_op.drop_index(batch_op.f('ix_tracker_tasks_assignee_id'))

    op.drop_table('tracker_tasks')
    op.drop_table('tracker_statuses')
    with op.batch_alter_table('tracker_sprints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tracker_sprints_project_id'))

    op.drop_table('tracker_sprints')
    op.drop_table('tracker_projects')
