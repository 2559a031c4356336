"""Applying and checking Alembic migrations from code (``tnld migrate``, ``tnld serve``)."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError

from app.db import get_engine

log = logging.getLogger(__name__)


def _project_root() -> Path:
    """Where ``alembic.ini`` and ``migrations/`` are: beside the ``app`` package in a checkout
    (or an editable install), else the working directory (the container image)."""
    beside_package = Path(str(resources.files("app"))).parent
    if (beside_package / "alembic.ini").exists():
        return beside_package
    return Path.cwd()


def alembic_config() -> Config:
    root = _project_root()
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "migrations"))
    # Logging is the application's: env.py must not reconfigure it.
    config.attributes["configure_logging"] = False
    return config


def upgrade() -> None:
    command.upgrade(alembic_config(), "head")


def database_is_current() -> bool:
    try:
        heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
        with get_engine().connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
        return current == heads
    except SQLAlchemyError:
        log.warning("readiness check failed", exc_info=True)
        return False
