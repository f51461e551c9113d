"""What a DATABASE_URL names, and how it is shown (its password never)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DEFAULT_URL = "sqlite:///data/economy.db"
PG_SCHEMES = ("postgresql", "postgres")


def path_from_url(url: str) -> Path:
    """`sqlite:///relative.db` or `sqlite:////absolute.db` (SQLAlchemy's spelling) -> a Path."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise ValueError(f"DATABASE_URL must look like sqlite:///data/economy.db or"
                         f" postgresql://user:password@host:5432/dbname, got {redact_url(url)!r}")
    return Path(url[len(prefix):])


def is_postgres(url: object) -> bool:
    return isinstance(url, str) and url.split(":", 1)[0].lower() in PG_SCHEMES and "://" in url


def sqlite_path(where: str | Path) -> Path:
    """The file a `sqlite:///` URL or a plain path names."""
    return path_from_url(where) if isinstance(where, str) and ":" in where.split("/")[0] else Path(where)


def same_database(a: str, b: str) -> bool:
    """Whether two URLs (or paths) name one database."""
    if is_postgres(a) or is_postgres(b):
        return is_postgres(a) and is_postgres(b) and redact_url(a) == redact_url(b)
    return sqlite_path(a).resolve() == sqlite_path(b).resolve()


def redact_url(url: str) -> str:
    """The URL with its password replaced by ***, for logs and error messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"://([^:/@]*):[^@]*@", r"://\1:***@", url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
