"""Settings, read from TEAHUB_* environment variables (the only place that reads the environment)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TEAHUB_", extra="ignore")

    database_url: str = "sqlite:///./teahub.db"
    broker_url: str | None = None
    # Names of teahub's exchanges and queues on the broker start with this (teahub.order.paid, teahub.sync.erp).
    broker_exchange_prefix: str = "teahub"
    # Sessions for the web UI live this long.
    session_hours: int = 12
    # Pool sizing for server databases; SQLite ignores it.
    pool_size: int = 10
    max_overflow: int = 20
    log_sql: bool = False
    # Run the background worker (schedules, event reactions) inside the API process: `teahub serve` turns it on
    # for the one-process laptop set-up; with a separate `teahub worker run`, leave it off.
    embedded_worker: bool = False
    # The key that seals personal data at rest (phone, address, birthday): 32 random bytes in base64
    # (`teahub keygen`). Without it, the key file below is used, and created on first start.
    data_key: SecretStr | None = None
    data_key_file: str = "./teahub.key"


@lru_cache
def get_settings() -> Settings:
    return Settings()
