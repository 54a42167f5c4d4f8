"""Calling a platform's API over HTTP with its signing (httpx). The connector builds each signed request; this
sends it to the shop's gateway (the platform's own, or a sandbox or simulator named by the shop's api_url)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import httpx

from teahub.channels.connectors.base import Connector, StockUpdate, loads
from teahub.channels.shops import ShopInfo
from teahub.db.base import utcnow
from teahub.errors import Conflict, DomainError

TIMEOUT = httpx.Timeout(15.0, connect=5.0)


class PlatformUnavailable(Conflict):
    title = "The platform could not be reached"


class PlatformClient:
    def __init__(self, connector: Connector, shop: ShopInfo, http: httpx.Client | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.connector = connector
        self.shop = shop
        self.http = http
        self.clock = clock

    def call(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        path, headers, body = self.connector.request(self.shop.secrets, method, params, self.clock())
        url = (self.shop.api_url or self.connector.gateway).rstrip("/") + path
        try:
            if self.http is not None:
                response = self.http.post(url, content=body, headers=headers)
            else:
                with httpx.Client(timeout=TIMEOUT) as http:
                    response = http.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise PlatformUnavailable(f"{self.connector.platform} {method}: {type(exc).__name__}: {exc}",
                                      field="api_url") from None
        if response.status_code >= 400:
            raise PlatformUnavailable(f"{self.connector.platform} {method} answered HTTP {response.status_code}",
                                      field="api_url")
        try:
            answer = loads(response.content)
        except DomainError:
            raise PlatformUnavailable(f"{self.connector.platform} {method} answered something that is not JSON",
                                      field="api_url") from None
        if not isinstance(answer, dict):
            raise PlatformUnavailable(f"{self.connector.platform} {method} answered a JSON {type(answer).__name__}",
                                      field="api_url")
        return answer

    def stock_update(self, update: StockUpdate) -> dict[str, Any]:
        """Set what the shop shows of one platform SKU, through the connector's stock API call."""
        return self.connector.stock_update(self, update)
