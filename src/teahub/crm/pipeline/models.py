"""(being built)"""

from teahub.db.base import Base  # noqa: F401
