"""Which view a snapshot shows, checked for the requesting user before anything is rendered."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from components.format import period_text
from components.i18n import name, t
from components.view_state import PAGES, ViewState
from data.clock import local_now
from data.models import OrgUnit, User
from data.units import children
from metrics.freshness import is_demo, last_loaded
from views.resolve import Refusal, resolve_view


class ExportRefused(PermissionError):
    """The user may not see this view (outside their scope, or a display account)."""


class ExportInvalid(ValueError):
    """The path is not an analytical page or its query cannot be used; the message says why."""


@dataclass(frozen=True)
class ExportView:
    page: str
    query: dict[str, str]
    view: ViewState
    unit: OrgUnit
    loaded: dt.date | None
    demo: bool

    @property
    def path(self) -> str:
        """Return the page path with its query string, as the browser would open it."""
        return self.page + ("?" + urlencode(self.query, safe=",") if self.query else "")


def resolve(session: Session, user: User, path: str) -> ExportView:
    """Check that `user` may see the view at `path` (page and query); raise ExportRefused or
    ExportInvalid otherwise."""
    found = resolve_view(session, user, path)
    if isinstance(found, Refusal):
        refused = found.kind in ("display_only", "not_permitted")
        raise (ExportRefused if refused else ExportInvalid)(str(found))
    return ExportView(found.page, found.query, found.asked, found.unit,
                      last_loaded(session, found.unit, scope=found.scope)[found.unit.code],
                      is_demo(session))


def child_views(session: Session, user: User, target: ExportView) -> list[ExportView]:
    """Return the same view for each child unit of the view's unit."""
    return [resolve(session, user, target.page + "?" + urlencode({**target.query, "unit": c.code},
                                                                 safe=","))
            for c in children(session, target.unit)]


def header_lines(target: ExportView, user: User, timezone: str,
                 at: dt.datetime | None = None) -> tuple[str, str]:
    """Return the two header lines of the PDF: what (page, unit, period) and who, when, as of."""
    lang = user.language or "zh"
    v = target.view
    when = local_now(timezone) if at is None else at.astimezone(ZoneInfo(timezone))
    what = (f"{t(PAGES[target.page], lang)} · {name(target.unit, lang)} · {t('filter.period', lang)} "
            f"{period_text(v, lang)}")
    person = f"{user.display_name} ({user.username})" if user.display_name else user.username
    who = (f"{t('pdf.by', lang)} {person} · "
           f"{t('pdf.at', lang)} {when:%Y-%m-%d %H:%M} {timezone} · "
           f"{t('asof', lang)} {target.loaded.isoformat() if target.loaded else '-'}")
    if target.demo:
        who += f" · {t('demo', lang)}"
    return what, who


def safe_part(text: str, ascii_only: bool = False) -> str:
    """Return `text` fit to be one part of a file name: letters (ASCII only if asked), digits, '.',
    '_' and '-' kept, anything else (path separators, controls, spaces, quotes) replaced by '_',
    never starting with '.' (no '..', no hidden file), at most 80 characters."""
    text = unicodedata.normalize("NFKC", str(text))
    kept = "".join(c if (c.isascii() and c.isalnum()) or c in "._-" or
                   (not ascii_only and c.isalnum()) else "_" for c in text)
    kept = re.sub(r"^\.+", lambda m: "_" * len(m.group()), kept)[:80]
    return kept or "_"


def file_name(target: ExportView) -> str:
    """Return an ASCII file name that says what the PDF shows, safe whatever a unit code holds."""
    page = target.page.strip("/") or "overview"
    v = target.view
    return (f"{safe_part(page, True)}-{safe_part(target.unit.code, True)}-"
            f"{v.start.isoformat()}_{v.end.isoformat()}.pdf")
