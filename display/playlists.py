"""Playlists: stored, validated and edited by admins (every change audited).

A playlist is an ordered list of views, each a dashboard URL (page path and query, e.g.
`/regions?unit=ZJ-HZ&period=last30`) with a dwell time, plus how often the display refreshes its
data. Views are checked when saved: a known page, a query the pages accept, a unit that exists.
A playlist is openable by a user when every view's unit lies in the user's scope (a view without
a unit shows the user's own unit); `/display` lists and opens only those, and a playlist that does
not exist and one the user may not open get the same answer. A display account that opens
`/display` without naming a playlist gets its home playlist, the one showing its own unit
(`home_playlist`), so a wall signed in once shows its board with no admin step. Each view is
still rendered through the same scope checks as any page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from auth import audit
from auth.admin import require_admin
from components.view_state import PAGES, BadView, parse
from data.clock import local_now
from data.models import Playlist, PlaylistItem, User
from data.numbers import BadNumber, whole
from data.units import unit_by_code
from views.resolve import permitted_unit

REFRESH_RANGE = (10, 3600)  # seconds between data refreshes
DWELL_RANGE = (5, 3600)  # seconds a view stays on screen
MAX_VIEWS = 50
PAGE_PATHS = tuple(PAGES)


class PlaylistError(ValueError):
    """A playlist that cannot be saved or found; the message says what is wrong."""


@dataclass(frozen=True)
class View:
    """One view of a playlist, split for rendering."""

    path: str
    query: dict[str, str]
    dwell_seconds: int


def playlists(session: Session) -> list[Playlist]:
    """Every playlist, by name."""
    return list(session.scalars(select(Playlist).order_by(Playlist.name)))


class PlaylistUnavailable(PlaylistError):
    """No such playlist, or one the user may not open (the two are not told apart)."""


def _playlist_id(raw_id: object) -> int:
    try:
        playlist_id = int(str(raw_id).strip()) if isinstance(raw_id, (str, int)) else None
    except ValueError:
        playlist_id = None
    if playlist_id is None or isinstance(raw_id, bool):
        raise PlaylistError(f"playlist must be a number, not '{str(raw_id)[:40]}'")
    return playlist_id


def find(session: Session, raw_id: str | int | None) -> Playlist:
    """The playlist a `playlist=` URL parameter names; PlaylistError when there is none."""
    playlist_id = _playlist_id(raw_id)
    playlist = session.get(Playlist, playlist_id) if 0 < playlist_id < 2**31 else None
    if playlist is None:
        raise PlaylistError(f"there is no playlist {playlist_id}")
    return playlist


def openable(session: Session, playlist: Playlist, user: User) -> bool:
    """Tell whether every view of `playlist` shows a unit in `user`'s scope."""
    return all(permitted_unit(session, user, view.query.get("unit")) is not None
               for view in views(playlist))


def playlists_for(session: Session, user: User) -> list[Playlist]:
    """The playlists `user` may open, by name."""
    return [p for p in playlists(session) if openable(session, p, user)]


def home_playlist(session: Session, user: User) -> Playlist | None:
    """The playlist a display account opens on `/display` without choosing: the first (by name)
    of those it may open whose every view shows the account's own unit; None when there is none
    (the account then chooses, as everyone else does)."""
    if user.role != "display":
        return None
    own = user.unit.code
    return next((p for p in playlists_for(session, user)
                 if all((view.query.get("unit") or own) == own for view in views(p))), None)


def find_for(session: Session, user: User, raw_id: object) -> Playlist:
    """The playlist `raw_id` names if `user` may open it; else PlaylistUnavailable (the same for
    a playlist that does not exist), or PlaylistError for an id that is not a number."""
    playlist_id = _playlist_id(raw_id)
    playlist = session.get(Playlist, playlist_id) if 0 < playlist_id < 2**31 else None
    if playlist is None or not openable(session, playlist, user):
        raise PlaylistUnavailable(f"playlist {playlist_id} is not found or not permitted")
    return playlist


def views(playlist: Playlist) -> list[View]:
    """The playlist's views in order."""
    out = []
    for item in playlist.items:
        parts = urlsplit(item.url)
        out.append(View(parts.path or "/", dict(parse_qsl(parts.query)), item.dwell_seconds))
    return out


def normalise_url(session: Session, raw: str, anchor: dt.date) -> str:
    """Return a view's URL as stored (path and query only), or raise PlaylistError saying why not.

    A full address copied from the browser is accepted; scheme and host are dropped.
    """
    parts = urlsplit((raw or "").strip())
    path = parts.path.rstrip("/") or "/"
    if path not in PAGE_PATHS:
        raise PlaylistError(f"'{raw}' is not a dashboard page; use one of {', '.join(PAGE_PATHS)}")
    query = dict(parse_qsl(parts.query))
    try:
        view = parse(query, "HQ", anchor)
    except BadView as exc:
        raise PlaylistError(f"'{raw}': {exc}") from exc
    if query.get("unit") and unit_by_code(session, view.unit) is None:
        raise PlaylistError(f"'{raw}': there is no unit {view.unit}")
    return path + (f"?{parts.query}" if parts.query else "")


def _whole(value, what: str, bounds: tuple[int, int]) -> int:
    try:
        number = whole(value, (what, what))  # the one number parser: no NaN, inf, "１２"
    except BadNumber:
        number = None
    if number is None:
        raise PlaylistError(f"{what} must be a whole number of seconds, not '{value}'")
    if not bounds[0] <= number <= bounds[1]:
        raise PlaylistError(f"{what} must be between {bounds[0]} and {bounds[1]} seconds")
    return number


def save(session: Session, actor: User, playlist_id: int | None, name: str, refresh_seconds,
         items: list[dict]) -> Playlist:
    """Create (`playlist_id` None) or replace a playlist; admins only; audited; the caller commits.

    `items` are dicts with `url` and `dwell_seconds`, in display order. Nothing is written when any
    part is invalid.
    """
    require_admin(actor)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise PlaylistError("a playlist needs a name of 1 to 100 characters")
    refresh = _whole(refresh_seconds, "refresh interval", REFRESH_RANGE)
    if not items:
        raise PlaylistError("a playlist needs at least one view")
    if len(items) > MAX_VIEWS:
        raise PlaylistError(f"a playlist holds at most {MAX_VIEWS} views")
    anchor = local_now().date()  # the company's today, whatever the server's zone
    rows = []
    for n, item in enumerate(items, start=1):
        try:
            url = normalise_url(session, str(item.get("url") or ""), anchor)
            dwell = _whole(item.get("dwell_seconds"), "dwell time", DWELL_RANGE)
        except PlaylistError as exc:
            raise PlaylistError(f"view {n}: {exc}") from exc
        rows.append(PlaylistItem(position=n, url=url, dwell_seconds=dwell))
    clash = session.scalar(select(Playlist).where(Playlist.name == name))
    if clash is not None and clash.id != playlist_id:
        raise PlaylistError(f"another playlist is already called '{name}'")
    if playlist_id is None:
        playlist = Playlist(name=name)
        session.add(playlist)
    else:
        playlist = find(session, playlist_id)
        playlist.items.clear()
        session.flush()  # the old positions go before the new ones come
    playlist.name = name
    playlist.refresh_seconds = refresh
    playlist.updated_at = audit.now()
    playlist.updated_by = actor.username
    playlist.items.extend(rows)
    session.flush()
    audit.record(session, "playlist_save", actor.username, target=f"playlist {playlist.id}",
                 detail=f"{name}: {len(rows)} views, refresh {refresh} s")
    return playlist


def delete(session: Session, actor: User, playlist_id: int) -> None:
    """Delete a playlist; admins only; audited; the caller commits."""
    require_admin(actor)
    playlist = find(session, playlist_id)
    session.delete(playlist)  # first: the audit row then waits for the caller's commit
    audit.record(session, "playlist_delete", actor.username, target=f"playlist {playlist.id}",
                 detail=playlist.name)
