"""ERP connectors (Odoo, Kingdee K3Cloud, Yonyou U8), registered with the connector registry on import."""

from teahub.sync.connectors import register_connector
from teahub.sync.erp.kingdee import KingdeeConnector
from teahub.sync.erp.odoo import OdooConnector
from teahub.sync.erp.yonyou import YonyouConnector

register_connector("odoo", OdooConnector)
register_connector("kingdee", KingdeeConnector)
register_connector("yonyou", YonyouConnector)

__all__ = ["KingdeeConnector", "OdooConnector", "YonyouConnector"]
