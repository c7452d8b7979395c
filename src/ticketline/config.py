"""Settings from environment variables (TICKETLINE_*) and an optional TOML file.

The TOML file is named by TICKETLINE_CONFIG; environment variables win over it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

Locale = Literal["zh_CN", "en"]


class Settings(BaseSettings):
    """Everything an operator may set; defaults give the embedded demo installation."""

    model_config = SettingsConfigDict(env_prefix="TICKETLINE_", extra="forbid")

    var_dir: Path = Path("var")
    database_url: str = ""
    redis_url: str = "redis://127.0.0.1:6379/0"
    web_host: str = "127.0.0.1"
    web_port: int = Field(8000, ge=1, le=65535)
    sip_host: str = "127.0.0.1"
    sip_port: int = Field(5060, ge=0, le=65535)  # 0: any free port (tests)
    sip_realm: str = "ticketline"
    sip_advertised_host: str = ""
    timezone: str = "Asia/Shanghai"
    default_locale: Locale = "zh_CN"
    session_hours: int = Field(12, ge=1, le=24 * 30)
    token_days: int = Field(30, ge=1, le=365)
    login_max_failures: int = Field(5, ge=1, le=100)
    login_lockout_minutes: int = Field(15, ge=1, le=24 * 60)
    secure_cookies: bool = False
    sms_gateway: Literal["log", "kannel", "smpp"] = "log"
    sms_sender: str = "95105"
    kannel_url: str = "http://127.0.0.1:13013/cgi-bin/sendsms"
    kannel_username: str = ""
    kannel_password: str = ""
    sms_inbound_token: str = ""  # the secret in the gateway's inbound URL; empty: receive none
    smpp_host: str = "127.0.0.1"
    smpp_port: int = Field(2775, ge=1, le=65535)
    smpp_system_id: str = ""
    smpp_password: str = ""
    ivr_flows_dir: Path | None = None  # None: the flows shipped in ticketline/ivr/flows
    ivr_default_flow: str = "hotline"
    ivr_watch_flows: bool = True
    ivr_speech: bool = True  # English menu words by pocketsphinx where a menu lists words
    company_name: str = "Ticketline"
    public_url: str = ""  # where customers reach the status page; default: the web address
    ticket_hold_minutes: int = Field(15, ge=1, le=24 * 60)
    ticket_pay_hours: int = Field(24, ge=1, le=24 * 14)
    credit_reminder_days: int = Field(2, ge=0, le=30)  # SMS this many days before due; 0: none
    ticket_pickup_place: str = "车站售票窗口"
    voicemail_department: str = "callcenter"  # who calls back after a voicemail (a work order)
    # The console alerts when an agent stays in one state longer than this (seconds).
    alert_not_ready_seconds: int = Field(900, ge=10, le=24 * 3600)
    alert_wrap_up_seconds: int = Field(180, ge=10, le=24 * 3600)
    alert_on_call_seconds: int = Field(1800, ge=10, le=24 * 3600)
    alert_ringing_seconds: int = Field(45, ge=5, le=3600)
    # The media plane (RTP, the 20 ms clock, mixing, recording) in a process of its own,
    # so web requests cannot delay its packets; false keeps it in the serving process.
    media_process: bool = True
    media_realtime: bool = False  # the media process asks for SCHED_FIFO (needs root)
    rtp_port_first: int = Field(20000, ge=1024, le=65535)
    rtp_port_last: int = Field(29999, ge=1024, le=65535)
    recordings_dir: Path | None = None  # default: var_dir / "recordings"
    moh_dir: Path | None = None  # default: var_dir / "moh"
    attachments_dir: Path | None = None  # default: var_dir / "attachments"
    attachment_max_bytes: int = Field(10 * 1024 * 1024, ge=1, le=1024 * 1024 * 1024)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = os.environ.get("TICKETLINE_CONFIG")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _rtp_range_holds_a_pair(self) -> Settings:
        if self.rtp_port_last - self.rtp_port_first < 3:
            raise ValueError(
                "rtp_port_first/rtp_port_last: the range must hold at least two port pairs, "
                f"got {self.rtp_port_first}-{self.rtp_port_last}"
            )
        return self

    @property
    def effective_recordings_dir(self) -> Path:
        """Where call recordings are written."""
        return self.recordings_dir or self.var_dir / "recordings"

    @property
    def effective_attachments_dir(self) -> Path:
        """Where work order attachments are stored."""
        return self.attachments_dir or self.var_dir / "attachments"

    @property
    def effective_moh_dir(self) -> Path:
        """The folder of music-on-hold WAV files."""
        return self.moh_dir or self.var_dir / "moh"

    @property
    def state_alert_seconds(self) -> dict[str, int]:
        """Per agent state, how long is too long (the console's alerts)."""
        return {
            "not_ready": self.alert_not_ready_seconds,
            "wrap_up": self.alert_wrap_up_seconds,
            "on_call": self.alert_on_call_seconds,
            "ringing": self.alert_ringing_seconds,
        }

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def effective_public_url(self) -> str:
        return (self.public_url or f"http://{self.web_host}:{self.web_port}").rstrip("/")

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file under `var_dir`."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.var_dir / 'ticketline.db').resolve()}"
