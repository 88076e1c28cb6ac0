"""Profiles on disk: list, load, save, save-as, rename, delete, export, import, last used.

Profiles are JSON documents (``engine.profile_codec``) in
``platformdirs.user_config_path("quantlaunch")/profiles/NAME.json``; the last-used name is
kept in ``settings.json`` beside that folder. Every write is atomic (a temp file in the
same folder, fsync, ``os.replace``). A corrupt or newer-version file raises
:class:`ProfileError` and is KEPT: it is moved aside to ``NAME.corrupt-<timestamp>.json``
only when the caller asks to replace it. A profile never runs a command.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from engine.diagnostics import Diagnostic, DiagnosticError, Remedy, error
from engine.json_text import parse_json_bytes
from engine.kcpps import KcppsFormatError, looks_like_kcpps, profile_from_kcpps
from engine.profile_codec import SCHEMA_VERSION, FieldError, profile_from_dict, profile_to_dict
from engine.settings import Profile

SETTINGS_FILE = "settings.json"
CORRUPT_MARK = ".corrupt-"
_BAD_NAME = re.compile(r'[/\\:*?"<>|\x00-\x1f]')


class ProfileError(DiagnosticError):
    """A profile problem a user can cause; ``.diagnostic`` says what and how to fix it."""


@dataclass(frozen=True)
class ImportResult:
    profile: Profile
    source_format: str  # "quantlaunch" | "kcpps"
    ignored_keys: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def _fail(code: str, title: str, detail: str, *remedies: Remedy, **technical: Any) -> ProfileError:
    return ProfileError(error(code, title, detail, *remedies, **technical))


def check_name(name: str) -> str:
    """A profile name usable as a file name, or ProfileError (QL-E-PROFILE-NAME)."""
    if not isinstance(name, str) or not name.strip() or len(name) > 64 or _BAD_NAME.search(name) \
            or name.startswith(".") or name != name.strip() or CORRUPT_MARK in name:
        raise _fail("QL-E-PROFILE-NAME", f"Invalid profile name {name!r}",
                    "A profile name is 1 to 64 characters, without / \\ : * ? \" < > |, control characters, "
                    "a leading dot or surrounding spaces.", name=repr(name))
    return name


def write_json_atomic(path: Path, document: Any) -> None:
    """Write JSON so that ``path`` holds either the old or the new content, never a mix."""
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"  # serialise before touching disk
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # not possible on Windows; the replace is still atomic
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _read_json(path: Path, what: str) -> Any:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _fail("QL-E-PROFILE-NOT-FOUND", f"{what} not found", f"There is no file at {path}.",
                    path=str(path)) from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        raise _fail("QL-E-PROFILE-IO", f"{what} cannot be read", f"Reading {path} failed: {exc}.",
                    path=str(path)) from None
    try:
        return parse_json_bytes(raw)
    except (ValueError, RecursionError) as exc:
        raise _fail("QL-E-PROFILE-CORRUPT", f"{what} is damaged",
                    f"{path} is not valid JSON ({exc}). The file is kept as it is; saving under this name "
                    "moves it aside to a .corrupt- copy only when you choose to replace it.",
                    path=str(path), error=str(exc)) from None


def profile_from_document(data: Any, path: Path, name: str | None) -> Profile:
    """Check the schema version, then every field; ProfileError names the problem."""
    if not isinstance(data, dict):
        raise _fail("QL-E-PROFILE-INVALID", "Not a QuantLaunch profile",
                    f"{path} holds a JSON {_json_kind(data)}, not a profile (a JSON object with schema_version). "
                    "The file is kept unchanged; fix or replace it.", path=str(path))
    version = data.get("schema_version")
    if _newer_schema(version):
        raise _fail("QL-E-PROFILE-VERSION", "Profile made by a newer QuantLaunch",
                    f"{path} has schema version {version}; this version reads up to {SCHEMA_VERSION}. "
                    "The file is kept unchanged; update QuantLaunch to use it.",
                    path=str(path), schema_version=version)
    try:
        if version is None or isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise FieldError("schema_version", f"must be a whole number from 1 to {SCHEMA_VERSION}, got {version!r}")
        return profile_from_dict(data, name)
    except FieldError as exc:
        raise _fail("QL-E-PROFILE-INVALID", f"Profile field {exc.field} is invalid",
                    f"In {path}, {exc}. The file is kept unchanged; fix or replace it.",
                    path=str(path), field=exc.field) from None


def _newer_schema(version: Any) -> bool:
    """Whether a document's schema_version says a newer QuantLaunch wrote it."""
    return isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION


def _json_kind(data: Any) -> str:
    kinds = ((list, "list"), (str, "text"), (bool, "true/false"), (int | float, "number"), (type(None), "null"))
    return next((word for kind, word in kinds if isinstance(data, kind)), type(data).__name__)


def checked_document(profile: Profile) -> dict[str, Any]:
    """``profile`` as a document, after checking that it reads back: never write a file that
    would then be refused as invalid (ProfileError QL-E-PROFILE-INVALID naming the field)."""
    document = profile_to_dict(profile)
    try:
        profile_from_dict(document, profile.name)
    except FieldError as exc:
        raise _fail("QL-E-PROFILE-INVALID", f"Profile field {exc.field} is invalid",
                    f"Profile '{profile.name}' was not written: {exc}.", field=exc.field) from None
    return document


def import_file(path: str | os.PathLike, name: str | None = None) -> ImportResult:
    """Read a profile exported by QuantLaunch or a KoboldCpp .kcpps file (not saved)."""
    path = Path(path)
    data = _read_json(path, "Import file")
    new_name = check_name(name or path.stem)
    if path.suffix.lower() == ".kcpps" or looks_like_kcpps(data):
        try:
            result = profile_from_kcpps(data, new_name)
        except KcppsFormatError as exc:
            raise _fail("QL-E-PROFILE-INVALID", "KoboldCpp settings file has an invalid value",
                        f"In {path}, {exc}.", path=str(path)) from None
        checked_document(result.profile)
        return ImportResult(result.profile, "kcpps", result.ignored_keys, result.notes)
    return ImportResult(profile_from_document(data, path, new_name), "quantlaunch")


def default_config_dir() -> Path:
    from platformdirs import user_config_path

    return Path(user_config_path("quantlaunch"))


class ProfileStore:
    """The profiles of one configuration folder (injectable for tests)."""

    def __init__(self, config_dir: str | os.PathLike | None = None, clock=time.time):
        self.config_dir = Path(config_dir) if config_dir is not None else default_config_dir()
        self.profiles_dir = self.config_dir / "profiles"
        self.settings_path = self.config_dir / SETTINGS_FILE
        self._clock = clock  # for the timestamp of files moved aside

    def path_for(self, name: str) -> Path:
        return self.profiles_dir / f"{check_name(name)}.json"

    def list_names(self) -> tuple[str, ...]:
        if not self.profiles_dir.is_dir():
            return ()
        names = (p.stem for p in self.profiles_dir.glob("*.json") if not p.name.startswith(".") and CORRUPT_MARK not in p.name)
        return tuple(sorted(names, key=str.casefold))

    def exists(self, name: str) -> bool:
        path = self.path_for(name)
        try:
            return path.is_file()
        except OSError as exc:  # e.g. the profiles folder is not readable
            raise _io_error("Profile cannot be checked", f"Checking {path} failed ({exc}).", path) from None

    def load(self, name: str) -> Profile:
        path = self.path_for(name)
        return profile_from_document(_read_json(path, f"Profile '{name}'"), path, name)

    def save(self, profile: Profile, *, replace_unreadable: bool = False) -> Path:
        """Write ``profile`` under its name. An existing unreadable file stops the save unless
        ``replace_unreadable``; then it is moved aside (never overwritten)."""
        path = self.path_for(profile.name)
        self._guard_unreadable(profile.name, path, replace_unreadable)
        self._write(path, checked_document(profile))
        return path

    def save_as(self, profile: Profile, new_name: str, *, overwrite: bool = False) -> Profile:
        renamed = replace(profile, name=check_name(new_name))
        if self.exists(new_name) and not overwrite:
            raise self._exists_error(new_name)
        self.save(renamed, replace_unreadable=overwrite)
        return renamed

    def _unlink(self, path: Path, title: str) -> None:
        try:
            path.unlink()
        except OSError as exc:
            raise _io_error(title, f"Removing {path} failed ({exc}); the file is unchanged.", path) from None

    def rename(self, old_name: str, new_name: str) -> Profile:
        profile = self.load(old_name)
        if new_name == old_name:
            return profile
        if self.exists(new_name):
            raise self._exists_error(new_name)
        renamed = self.save_as(profile, new_name)
        self._unlink(self.path_for(old_name), f"Profile '{old_name}' was copied to '{new_name}' but not removed")
        if self.last_used() == old_name:
            self.set_last_used(new_name)
        return renamed

    def delete(self, name: str) -> None:
        path = self.path_for(name)
        if not self.exists(name):
            raise _fail("QL-E-PROFILE-NOT-FOUND", f"Profile '{name}' not found", f"There is no file at {path}.",
                        path=str(path))
        self._unlink(path, f"Profile '{name}' could not be deleted")
        if self.last_used() == name:
            self.set_last_used(None)

    def export(self, name: str, destination: str | os.PathLike) -> Path:
        destination = Path(destination)
        self._write(destination, checked_document(self.load(name)))
        return destination

    def import_file(self, path: str | os.PathLike, name: str | None = None) -> ImportResult:
        """Read a profile file (ours or .kcpps); the caller saves it (``save``/``save_as``)."""
        return import_file(path, name)

    def last_used(self) -> str | None:
        """The last-used profile name, or None (also when settings.json is unreadable or the
        name in it is not a valid profile name)."""
        try:
            data = parse_json_bytes(self.settings_path.read_bytes())
        except (OSError, ValueError, RecursionError):
            return None
        name = data.get("last_profile") if isinstance(data, dict) else None
        try:
            return check_name(name) if isinstance(name, str) and name else None
        except ProfileError:
            return None

    def set_last_used(self, name: str | None) -> None:
        """Remember ``name`` in settings.json, keeping its other keys. A damaged settings.json is
        moved aside first; one written by a newer QuantLaunch is left unchanged (ProfileError)."""
        name = None if name is None else check_name(name)
        try:
            data = parse_json_bytes(self.settings_path.read_bytes())
        except FileNotFoundError:
            data = {}
        except (OSError, ValueError, RecursionError):
            data = None
        if not isinstance(data, dict):  # unreadable, or valid JSON of the wrong kind
            self._move_aside(self.settings_path)  # keep the damaged file for inspection
            data = {}
        version = data.get("schema_version")
        if _newer_schema(version):
            raise _fail("QL-E-PROFILE-VERSION", "Settings made by a newer QuantLaunch",
                        f"{self.settings_path} has schema version {version}; this version writes {SCHEMA_VERSION}. "
                        "The file is kept unchanged; the last-used profile is not remembered.",
                        path=str(self.settings_path), schema_version=version)
        data.update({"schema_version": SCHEMA_VERSION, "last_profile": name})
        self._write(self.settings_path, data)

    def _write(self, path: Path, document: dict[str, Any]) -> None:
        try:
            write_json_atomic(path, document)
        except OSError as exc:
            raise _fail("QL-E-PROFILE-IO", "Profile could not be written",
                        f"Writing {path} failed ({exc}); the previous file, if any, is unchanged.",
                        path=str(path)) from None

    def _guard_unreadable(self, name: str, path: Path, replace_unreadable: bool) -> None:
        if not self.exists(name):
            return
        try:
            self.load(name)
        except ProfileError as exc:
            if not replace_unreadable:
                raise ProfileError(_with_replace_remedy(exc.diagnostic, name)) from None
            self._move_aside(path)

    def _move_aside(self, path: Path) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(self._clock()))
        target, counter = path.with_name(f"{path.stem}{CORRUPT_MARK}{stamp}.json"), 1
        while target.exists():
            counter += 1
            target = path.with_name(f"{path.stem}{CORRUPT_MARK}{stamp}-{counter}.json")
        try:
            os.replace(path, target)
        except OSError as exc:
            raise _io_error("Damaged file could not be moved aside",
                            f"Renaming {path} to {target.name} failed ({exc}); nothing was changed.", path) from None
        return target

    def _exists_error(self, name: str) -> ProfileError:
        return _fail("QL-E-PROFILE-EXISTS", f"A profile named '{name}' already exists",
                     "Choose another name, or confirm to overwrite it.", name=name)


def _io_error(title: str, detail: str, path: Path) -> ProfileError:
    return _fail("QL-E-PROFILE-IO", title, detail, path=str(path))


def _with_replace_remedy(diagnostic: Diagnostic, name: str) -> Diagnostic:
    remedy = Remedy("replace_profile", f"Replace '{name}' (the old file is kept as a .corrupt- copy)", {"name": name})
    return replace(diagnostic, remedies=(*diagnostic.remedies, remedy))
