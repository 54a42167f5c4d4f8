"""One connector per platform; `connector_for(platform)` finds it."""

from __future__ import annotations

from teahub.channels.connectors.base import Connector
from teahub.channels.connectors.douyin import DouyinConnector
from teahub.channels.connectors.jd import JdConnector
from teahub.channels.connectors.pdd import PddConnector
from teahub.channels.connectors.taobao import TaobaoConnector, TmallConnector
from teahub.channels.connectors.youzan import YouzanConnector

CONNECTORS: dict[str, Connector] = {
    c.platform: c for c in (TaobaoConnector(), TmallConnector(), JdConnector(), PddConnector(), DouyinConnector(),
                            YouzanConnector())
}


def connector_for(platform: str) -> Connector:
    return CONNECTORS[platform]
