"""The service's settings: embedded defaults (SQLite under ./var, CPU, the shipped models), each overridable
by an environment variable. The only configuration there is; nothing else reads the environment."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Settings"]


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    data_dir: Path = Path("var")
    """Uploaded pages, job outputs and the SQLite database live here (HOTICH_DATA_DIR)."""
    database_url: str | None = None
    """SQLAlchemy URL (HOTICH_DATABASE_URL); default: SQLite at <data_dir>/hotich.db. PostgreSQL:
    postgresql+psycopg://user:password@host/db."""
    threads: int | None = None
    """Threads per model (HOTICH_THREADS); default: every core, for each page read at once."""
    providers: tuple[str, ...] = ()
    """ONNX Runtime providers for the recogniser (HOTICH_PROVIDERS, comma-separated), e.g.
    CUDAExecutionProvider,CPUExecutionProvider; default: CPU."""
    max_concurrent_pages: int = Field(2, ge=1)
    """Pages read at once (HOTICH_MAX_CONCURRENT_PAGES); more requests wait in the queue."""
    queue_size: int = Field(16, ge=0)
    """Requests that may wait for a reading slot (HOTICH_QUEUE_SIZE); beyond that the service answers 429."""
    max_upload_mb: float = Field(200.0, gt=0)
    """Largest upload accepted (HOTICH_MAX_UPLOAD_MB)."""
    max_megapixels: float = Field(60.0, gt=0)
    """Largest page image accepted (HOTICH_MAX_MEGAPIXELS): a 600 dpi A3 scan is ~70 MP; phone photos ~12-50."""
    max_book_pages: int = Field(1000, ge=1)
    """Most pages one book job may hold (HOTICH_MAX_BOOK_PAGES)."""

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'hotich.db').resolve()}"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {
            "data_dir": env.get("HOTICH_DATA_DIR"),
            "database_url": env.get("HOTICH_DATABASE_URL"),
            "threads": env.get("HOTICH_THREADS"),
            "providers": tuple(p for p in env.get("HOTICH_PROVIDERS", "").split(",") if p) or None,
            "max_concurrent_pages": env.get("HOTICH_MAX_CONCURRENT_PAGES"),
            "queue_size": env.get("HOTICH_QUEUE_SIZE"),
            "max_upload_mb": env.get("HOTICH_MAX_UPLOAD_MB"),
            "max_megapixels": env.get("HOTICH_MAX_MEGAPIXELS"),
            "max_book_pages": env.get("HOTICH_MAX_BOOK_PAGES"),
        }
        return cls.model_validate({k: v for k, v in values.items() if v is not None} | overrides)
