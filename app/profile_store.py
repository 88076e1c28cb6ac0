"""The launcher's view of saved profiles: engine.profiles.ProfileStore plus the few things
the window needs (the starting profile, exporting the unsaved current profile, JSON for
the engine). Errors stay ProfileError (a DiagnosticError naming the file); a corrupt or
newer-version file is reported and kept."""

from __future__ import annotations

import json
from pathlib import Path

from engine import profiles
from engine.diagnostics import Diagnostic, DiagnosticError
from engine.profile_codec import profile_to_dict
from engine.settings import Profile


class ProfileStore(profiles.ProfileStore):
    def __init__(self, config_dir: str | Path | None = None):
        super().__init__(config_dir)

    def names(self) -> list[str]:
        try:
            return list(self.list_names())
        except OSError:  # an unreadable folder lists as empty; loading reports details
            return []

    def starting_profile(self, name: str | None) -> tuple[Profile, Diagnostic | None]:
        """The named profile, else the last used one, else a fresh default; plus any problem."""
        wanted = name or self.last_used()
        if not wanted:
            return Profile(), None
        try:
            return self.load(wanted), None
        except DiagnosticError as exc:
            return Profile(name=wanted), exc.diagnostic

    def remember(self, name: str) -> None:
        try:
            self.set_last_used(name)
        except DiagnosticError:
            pass  # remembering is a convenience; never an error for the user

    def export_profile(self, profile: Profile, destination: str | Path) -> Path:
        """Write the current (possibly unsaved) profile to ``destination`` atomically."""
        destination = Path(destination)
        self._write(destination, profile_to_dict(profile))
        return destination

    @staticmethod
    def to_json(profile: Profile) -> str:
        return json.dumps(profile_to_dict(profile))
