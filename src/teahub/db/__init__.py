from teahub.db.base import Base
from teahub.db.engine import make_engine, make_session_factory
from teahub.db.uow import UnitOfWork

__all__ = ["Base", "UnitOfWork", "make_engine", "make_session_factory"]
