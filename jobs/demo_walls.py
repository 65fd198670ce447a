"""The demo's wall-display playlists: a province wall (Zhejiang) and a city wall (Hangzhou), so the
demo display account opens a wall on first start without an admin step.

The views are URLs of the pages (as an admin would enter them in the playlist editor; the
editor's validation, `display.playlists.normalise_url`, accepts each: tests/test_wall.py). The
display account (at ZJ, auth/demo_users.py) opens the province wall on `/display`: the playlist
that shows its own unit (`display.playlists.home_playlist`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from auth import audit
from data.models import Playlist, PlaylistItem
from data.units import unit_by_code

# name, refresh seconds, [(url, dwell seconds)]
DEMO_PLAYLISTS: tuple[tuple[str, int, tuple[tuple[str, int], ...]], ...] = (
    ("浙江省客服中心大屏 Zhejiang province wall", 60, (
        ("/live?unit=ZJ", 40),  # today so far: what the people in the room act on
        ("/?unit=ZJ&period=last30", 30),
        ("/regions?unit=ZJ&period=last30", 40),
        ("/regions?unit=ZJ&period=last30&kpi=satisfaction", 40),
        ("/risk?unit=ZJ&period=last30", 30),
    )),
    ("杭州供电局大屏 Hangzhou city wall", 60, (
        ("/live?unit=ZJ-HZ", 40),
        ("/?unit=ZJ-HZ&period=last30", 30),
        ("/regions?unit=ZJ-HZ&period=last30", 30),
        ("/regions?unit=ZJ-HZ&period=last30&kpi=satisfaction", 30),
        ("/risk?unit=ZJ-HZ&period=last30", 30),
    )),
)
DEMO_EDITOR = "seed-demo"


def _unit_of(url: str) -> str:
    return url.split("unit=", 1)[1].split("&", 1)[0]


def ensure_demo_playlists(session: Session) -> list[str]:
    """Create the demo playlists that do not exist yet (by name) and whose units the store holds;
    return a line per playlist created. Audited; the caller commits."""
    made = []
    for name, refresh, views in DEMO_PLAYLISTS:
        if session.scalar(select(Playlist).where(Playlist.name == name)) is not None:
            continue
        if any(unit_by_code(session, _unit_of(url)) is None for url, _dwell in views):
            continue
        playlist = Playlist(name=name, refresh_seconds=refresh, updated_at=audit.now(),
                            updated_by=DEMO_EDITOR)
        playlist.items.extend(PlaylistItem(position=n, url=url, dwell_seconds=dwell)
                              for n, (url, dwell) in enumerate(views, start=1))
        session.add(playlist)
        session.flush()
        audit.record(session, "playlist_save", DEMO_EDITOR, target=f"playlist {playlist.id}",
                     detail=f"{name}: {len(views)} views, refresh {refresh} s (demo)")
        made.append(f"Demo wall playlist {playlist.id}: {name} (/display?playlist={playlist.id})")
    return made
