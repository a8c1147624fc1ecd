"""toolsets on MCP keys, OAuth grants and authorization codes (NULL: the default toolsets)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 03:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

TABLES = ('user_mcp_api_keys', 'oauth_grants', 'oauth_authorization_codes')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('toolsets', sa.JSON(), nullable=True))


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('toolsets')
