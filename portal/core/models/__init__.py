"""The database schema shared by the portal and the worker.

SQLAlchemy 2.x typed models on a plain DeclarativeBase (`base.py`, imported by
every other module here and importing none of them): no Flask here, so the
worker and scripts use exactly the same classes as the portal. Importing this
package registers every table on `Base.metadata`.
"""

from .accounts import MCP_CLIENTS, McpApiKey, User
from .audit import AuditEvent
from .base import NAMING_CONVENTION, NO_ID_REUSE, Base, UTCDateTime, utcnow
from .connections import ProviderConnection
from .oauth import CLIENT_KINDS, OAuthAuthorizationCode, OAuthClient, OAuthGrant, OAuthToken
from .tracker import (
    DEFAULT_STATUSES,
    FIELD_TYPES,
    LINK_KINDS,
    PRIORITIES,
    SPRINT_STATES,
    STATUS_CATEGORIES,
    TASK_TYPES,
    TrackerComment,
    TrackerField,
    TrackerFieldValue,
    TrackerProject,
    TrackerSprint,
    TrackerStatus,
    TrackerTask,
    TrackerTaskChange,
    TrackerTaskLink,
    TrackerWorklog,
)
from .worker_bus import AuthFailure, BusPayload, SseSessionOwner

__all__ = [
    "CLIENT_KINDS",
    "DEFAULT_STATUSES",
    "FIELD_TYPES",
    "LINK_KINDS",
    "MCP_CLIENTS",
    "NAMING_CONVENTION",
    "NO_ID_REUSE",
    "PRIORITIES",
    "SPRINT_STATES",
    "STATUS_CATEGORIES",
    "TASK_TYPES",
    "AuditEvent",
    "AuthFailure",
    "Base",
    "BusPayload",
    "McpApiKey",
    "OAuthAuthorizationCode",
    "OAuthClient",
    "OAuthGrant",
    "OAuthToken",
    "ProviderConnection",
    "SseSessionOwner",
    "TrackerComment",
    "TrackerField",
    "TrackerFieldValue",
    "TrackerProject",
    "TrackerSprint",
    "TrackerStatus",
    "TrackerTask",
    "TrackerTaskChange",
    "TrackerTaskLink",
    "TrackerWorklog",
    "UTCDateTime",
    "User",
    "utcnow",
]
