"""Reading Home Assistant's log for errors the integration caused."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import re

# "2026-11-21 06:46:32.486 ERROR (MainThread) [homeassistant.config_entries] Error ..."; from
# 2026.11 the time carries its offset ("06:46:32.486+00:00").
_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+(?:[+-]\d\d:\d\d|Z)? (?P<level>[A-Z]+) ")
# The integration's logger and source path (not just "vebus_marstek": scripts/setup builds
# Python under ~/.cache/vebus_marstek, which appears in every traceback).
OURS = ("custom_components.vebus_marstek", "custom_components/vebus_marstek")


@dataclass(frozen=True, slots=True)
class LogPosition:
    """Where the log ended when a test started (hass starts a new file on every start)."""

    path: Path
    size: int
    inode: int

    @classmethod
    def now(cls, path: Path) -> LogPosition:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return cls(path, 0, 0)
        return cls(path, stat.st_size, stat.st_ino)


def errors_since(start: LogPosition) -> list[str]:
    """ERROR records (with their tracebacks) written since ``start`` that mention us."""
    text = _written_since(start).decode("utf-8", errors="replace")
    return [
        record
        for record in records(text)
        if _is_error(record) and any(marker in record for marker in OURS)
    ]


def _written_since(start: LogPosition) -> bytes:
    """The log's new bytes, across a restart (which moves the old file to ``.1``)."""
    if _inode(start.path) == start.inode:
        return _read(start.path)[start.size :]
    rotated = start.path.with_name(f"{start.path.name}.1")
    older = _read(rotated)[start.size :] if _inode(rotated) == start.inode else b""
    return older + _read(start.path)


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except FileNotFoundError:
        return None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def records(text: str) -> list[str]:
    """Log records, each with its continuation lines (a traceback belongs to its record)."""
    records: list[list[str]] = []
    for line in text.splitlines():
        if _RECORD.match(line) or not records:
            records.append([line])
        else:
            records[-1].append(line)
    return ["\n".join(lines) for lines in records]


def level(record: str) -> str | None:
    """The record's level name (ERROR, WARNING, ...)."""
    match = _RECORD.match(record)
    return match["level"] if match is not None else None


def _is_error(record: str) -> bool:
    return level(record) in {"ERROR", "CRITICAL"}
