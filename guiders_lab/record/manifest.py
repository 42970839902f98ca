"""``manifest.json``: what a recording is, written at start and rewritten on close."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import msgspec

from .._version import __version__

__all__ = ["MANIFEST_NAME", "SCHEMA_VERSION", "Manifest", "RecordingError"]

MANIFEST_NAME = "manifest.json"
# 2: the chats table no longer depends on arrival order; events.delivery,
# latency.server_time; link and note lines in the journal
SCHEMA_VERSION = 3  # 3: chats.priority as opened; simulated_clock


class RecordingError(Exception):
    """A directory is not a readable recording (the message names the file)."""


class Manifest(msgspec.Struct, kw_only=True):
    """What a recording is. A Struct: reading one from disk checks every field's type."""

    dialect: str
    server_url: str  # secrets removed
    started_at: str  # ISO 8601 UTC
    ended_at: str | None = None
    complete: bool = False  # False until the recorder closed cleanly
    kit_version: str = __version__
    schema_version: int = SCHEMA_VERSION
    source: str = "live"  # live | simulator | replay
    # the events' timestamps come from a simulator's compressed day: see Store.simulated_clock
    simulated_clock: bool = False
    flush_interval_s: float = 0.5
    event_counts: dict[str, int] = msgspec.field(default_factory=dict)
    n_events: int = 0
    journal_lines: int = 0
    tables: dict[str, int] = msgspec.field(default_factory=dict)  # table -> rows, on close
    extra: dict[str, Any] = msgspec.field(default_factory=dict)

    def to_json(self) -> str:
        fields = msgspec.structs.asdict(self)
        return json.dumps(fields, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def write(self, directory: Path) -> None:
        """Write atomically: a crash mid-write leaves the previous manifest intact."""
        path = Path(directory) / MANIFEST_NAME
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        os.replace(tmp, path)

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        path = Path(directory) / MANIFEST_NAME
        if not Path(directory).is_dir():
            raise RecordingError(f"{directory}: not a directory")
        if not path.exists():
            raise RecordingError(f"{directory}: not a recording (no {MANIFEST_NAME})")
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))  # a BOM is harmless
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RecordingError(f"{path}: not valid JSON ({exc})") from None
        except OSError as exc:  # a directory of that name, no permission, ...
            raise RecordingError(f"{path}: cannot be read ({exc})") from None
        if not isinstance(data, dict) or "schema_version" not in data:
            raise RecordingError(f"{path}: not a guiders-lab manifest")
        version = data["schema_version"]
        if type(version) is not int or version < 1:
            raise RecordingError(
                f"{path}: schema_version must be a whole number >= 1, not {version!r}"
            )
        if version > SCHEMA_VERSION:
            raise RecordingError(
                f"{path}: recorded with schema version {version}, but guiders-lab "
                f"{__version__} reads versions up to {SCHEMA_VERSION}; upgrade guiders-lab"
            )
        try:  # every field this version knows, with its type; unknown ones are ignored
            return msgspec.convert(data, cls, strict=True)
        except msgspec.ValidationError as exc:
            raise RecordingError(f"{path}: not a valid manifest ({exc})") from None
