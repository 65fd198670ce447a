"""The one view resolver: last loaded day -> parse the URL -> find the unit -> check scope.

Pages (`pages/_common.page_context`), exports (`export.views.resolve`) and wall displays
(`display.kiosk.describe`, `display.playlists.openable`) all ask `resolve_view` which view a
path or query means for a user, and get a `View` or a `Refusal` saying why not. It imports no
Dash, and it writes nothing: a caller that shows a refusal audits it with `audit_refusal`
(pages) or records its own event (exports).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from sqlalchemy.orm import Session

from auth import audit
from components.i18n import t
from components.view_state import PAGES, BadView, ViewState, parse
from data.models import OrgUnit, User
from data.units import unit_by_code
from metrics.freshness import loaded_range
from metrics.scope import Scope

RefusalKind = Literal["not_a_page", "display_only", "no_data", "bad_parameter", "not_permitted"]


@dataclass(frozen=True)
class View:
    """A view the user may see: page, query as given, the parsed state (its end clipped to the
    last loaded day), the unit and the user's scope."""

    page: str
    query: dict[str, str]
    state: ViewState
    unit: OrgUnit
    scope: Scope
    data_end: dt.date  # the store's last loaded day
    requested_end: dt.date | None = None  # the URL's end, when it ran past data_end (state clipped)

    @property
    def asked(self) -> ViewState:
        """The state as the URL asked for it (end not clipped)."""
        return self.state if self.requested_end is None else replace(self.state,
                                                                     end=self.requested_end)

    @property
    def path(self) -> str:
        """The page path with its query string, as the browser would open it."""
        return self.page + ("?" + urlencode(self.query, safe=",") if self.query else "")


@dataclass(frozen=True)
class Refusal:
    """Why a view is not shown. `unit` and `state` are the code and view asked for
    (not_permitted); `parameter` names
    the parameter (bad_parameter) when known; `audit_kind`/`detail` say how a page audits it
    (None: not audited)."""

    kind: RefusalKind
    en: str
    zh: str
    target: str
    parameter: str | None = None
    unit: str | None = None
    state: ViewState | None = None  # the parsed view (not_permitted)
    audit_kind: str | None = None
    detail: str = ""

    def text(self, lang: str) -> str:
        """The message in `lang`."""
        return self.en if lang == "en" else self.zh

    def __str__(self) -> str:
        return self.en


def permitted_unit(session: Session, user: User, code: str | None) -> OrgUnit | None:
    """The unit `code` names (the user's own unit when empty) if it lies in `user`'s scope; None
    for a unit outside the scope and for one that does not exist alike."""
    unit = unit_by_code(session, code) if code else user.unit
    return unit if unit is not None and Scope.of(user.unit).allows(unit) else None


def split(path: str) -> tuple[str | None, dict[str, str | list[str]]]:
    """A path's page (None for an address with a scheme or host) and query; a parameter given
    more than once keeps all its values (a list), as Dash passes it to a page."""
    parts = urlsplit(path or "")
    query: dict[str, str | list[str]] = {}
    for key, value in parse_qsl(parts.query):
        seen = query.get(key)
        query[key] = value if seen is None else [*([seen] if isinstance(seen, str) else seen), value]
    return (None if parts.scheme or parts.netloc else parts.path), query


def resolve_view(session: Session, user: User, page: str,
                 query: Mapping[str, object] | None = None, *, wall: bool = False) -> View | Refusal:
    """Resolve the view at `page` (a path, with its query string when `query` is None) for `user`.

    `wall`: rendered on a wall display, where a display account may look. Checked in this order:
    an analytical page, not a display account off the wall, data loaded, parameters (none
    repeated, each usable), the unit exists and lies in the user's scope. A unit that does not
    exist and one outside the scope get the same refusal.
    """
    shown = urlsplit(page or "").path or page
    if query is None:
        own, query = split(page)
        page = own if own is not None else ""
    if page not in PAGES:
        return Refusal("not_a_page", f"not an analytical page: {shown!r}",
                       f"不是分析页面：{shown!r}", shown)
    if user.role == "display" and not wall:
        return Refusal("display_only", "display accounts can open wall-display views only",
                       "大屏账号只能打开大屏视图", page)
    span = loaded_range(session)
    if span is None:
        return Refusal("no_data", "the store holds no data yet", t("nodata", "zh"), page)
    repeated = sorted(k for k, v in query.items() if not isinstance(v, str))
    if repeated:  # ?unit=A&unit=B: Dash passes a list; nobody's link does that
        return Refusal("bad_parameter", t("error.repeated", "en").format(name=repeated[0]),
                       t("error.repeated", "zh").format(name=repeated[0]), page,
                       parameter=repeated[0], audit_kind="bad_request",
                       detail=f"repeated parameter {', '.join(repeated)}")
    given = {k: str(v) for k, v in query.items()}
    try:
        state = parse(given, user.unit.code, span[1])
    except BadView as exc:
        return Refusal("bad_parameter", str(exc), exc.zh, page, parameter=exc.param)
    unit = permitted_unit(session, user, state.unit)
    if unit is None:
        missing = unit_by_code(session, state.unit) is None
        return Refusal("not_permitted", f"unit {state.unit} is outside your scope",
                       f"单位 {state.unit} 不在您的权限范围内", page + state.query(),
                       unit=state.unit, state=state, audit_kind="forbidden",
                       detail=f"unit {state.unit}" + (" (no such unit)" if missing else ""))
    requested_end = None
    if state.start <= span[1] < state.end:  # nothing is loaded after span[1]: show to that day
        requested_end, state = state.end, replace(state, end=span[1])
    return View(page, given, state, unit, Scope.of(user.unit), span[1], requested_end)


def audit_refusal(session: Session, user: User, refusal: Refusal) -> None:
    """Audit a refusal a page shows, as pages always have: a forged unit as `forbidden`, a
    repeated parameter as `bad_request`; the others are not audited."""
    if refusal.audit_kind is not None:
        audit.record(session, refusal.audit_kind, user.username, target=refusal.target,
                     outcome="refused", detail=refusal.detail[:500])
