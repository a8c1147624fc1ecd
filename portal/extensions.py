"""Flask extensions, created unbound and bound to the app in create_app."""

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import Session

from portal.core.models import Base


class Database(SQLAlchemy):
    # `session` is a scoped_session: a proxy that forwards every Session method to the current app
    # context's session, which is what the core's functions (typed to take a Session) receive.
    session: Session  # type: ignore[assignment]


db = Database(metadata=Base.metadata)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
