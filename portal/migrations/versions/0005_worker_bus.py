"""worker bus: shared auth-failure counts, SSE session owners, large forwarded payloads

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 03:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mcp_auth_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mcp_auth_failures'))
    )
    op.create_index(op.f('ix_mcp_auth_failures_address'), 'mcp_auth_failures', ['address'], unique=False)
    op.create_index(op.f('ix_mcp_auth_failures_at'), 'mcp_auth_failures', ['at'], unique=False)
    op.create_table('mcp_sse_sessions',
    sa.Column('session_id', sa.String(length=32), nullable=False),
    sa.Column('worker', sa.String(length=40), nullable=False),
    sa.Column('credential', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('session_id', name=op.f('pk_mcp_sse_sessions'))
    )
    op.create_index(op.f('ix_mcp_sse_sessions_worker'), 'mcp_sse_sessions', ['worker'], unique=False)
    op.create_table('mcp_bus_payloads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mcp_bus_payloads'))
    )
    op.create_index(op.f('ix_mcp_bus_payloads_created_at'), 'mcp_bus_payloads', ['created_at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_mcp_bus_payloads_created_at'), table_name='mcp_bus_payloads')
    op.drop_table('mcp_bus_payloads')
    op.drop_index(op.f('ix_mcp_sse_sessions_worker'), table_name='mcp_sse_sessions')
    op.drop_table('mcp_sse_sessions')
    op.drop_index(op.f('ix_mcp_auth_failures_at'), table_name='mcp_auth_failures')
    op.drop_index(op.f('ix_mcp_auth_failures_address'), table_name='mcp_auth_failures')
    op.drop_table('mcp_auth_failures')
