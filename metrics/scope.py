"""Region scope: a user sees their home unit and everything below it, nothing beside or above."""

from __future__ import annotations

from dataclasses import dataclass

from data.models import OrgUnit


class OutOfScope(PermissionError):
    """A unit outside the caller's scope was asked for."""

    def __init__(self, unit_code: str) -> None:
        super().__init__(f"unit '{unit_code}' is outside your scope")
        self.unit_code = unit_code


@dataclass(frozen=True)
class Scope:
    """The subtree a caller may read, rooted at their home unit."""

    root_code: str
    root_path: str

    @classmethod
    def of(cls, unit: OrgUnit) -> Scope:
        """Return the scope rooted at `unit`."""
        return cls(unit.code, unit.path)

    def allows(self, unit: OrgUnit) -> bool:
        """Tell whether `unit` lies in this scope."""
        return unit.path.startswith(self.root_path)

    def check(self, unit: OrgUnit) -> None:
        """Raise OutOfScope unless `unit` lies in this scope."""
        if not self.allows(unit):
            raise OutOfScope(unit.code)


def enforce(scope: Scope | None, unit: OrgUnit) -> None:
    """Check `unit` against `scope` (None: an internal caller with no user, e.g. the CLI)."""
    if scope is not None:
        scope.check(unit)
