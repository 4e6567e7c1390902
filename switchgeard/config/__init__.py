"""Configuration: one TOML file parsed into frozen, typed, per-section dataclasses.

Owns parsing, validation, defaults, secret-file reading and live reload (``config.watch``).
Imports only ``errors``, ``units``, the standard library, trio and trio_util; nothing
above this layer reads the config file or the environment for settings.
"""

from switchgeard.config.load import load_config, parse_config, parse_config_bytes
from switchgeard.config.model import (
    AdminConfig,
    BalancerConfig,
    Config,
    DaemonConfig,
    FileMode,
    HealthConfig,
    LightningConfig,
    LnurlConfig,
    LoggingConfig,
    RetryConfig,
    Seconds,
    StoreConfig,
    TelemetryConfig,
)
from switchgeard.config.secrets import check_secret_files, load_secret_file, read_secret_file

__all__ = [
    "AdminConfig",
    "BalancerConfig",
    "Config",
    "DaemonConfig",
    "FileMode",
    "HealthConfig",
    "LightningConfig",
    "LnurlConfig",
    "LoggingConfig",
    "RetryConfig",
    "Seconds",
    "StoreConfig",
    "TelemetryConfig",
    "check_secret_files",
    "load_config",
    "load_secret_file",
    "parse_config",
    "parse_config_bytes",
    "read_secret_file",
]
