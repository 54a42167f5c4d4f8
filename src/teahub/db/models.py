"""Imports every capability's models so that Base.metadata knows the whole schema (Alembic, tests)."""

from teahub.analytics import models as analytics_models  # noqa: F401
from teahub.auth import models as auth_models  # noqa: F401
from teahub.catalog import models as catalog_models  # noqa: F401
from teahub.channels import models as channels_models  # noqa: F401
from teahub.crm.aftersales import models as aftersales_models  # noqa: F401
from teahub.crm.campaigns import models as campaigns_models  # noqa: F401
from teahub.crm.care import models as care_models  # noqa: F401
from teahub.crm.pipeline import models as pipeline_models  # noqa: F401
from teahub.customers import models as customers_models  # noqa: F401
from teahub.db import outbox  # noqa: F401
from teahub.db.base import Base
from teahub.inventory import models as inventory_models  # noqa: F401
from teahub.loyalty import coupon_models  # noqa: F401
from teahub.loyalty import models as loyalty_models  # noqa: F401
from teahub.sales import models as sales_models  # noqa: F401
from teahub.scheduling import models as scheduling_models  # noqa: F401
from teahub.sync import models as sync_models  # noqa: F401
from teahub.sync.erp import models as sync_erp_models  # noqa: F401

metadata = Base.metadata
