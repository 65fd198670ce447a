"""The documented demo accounts, one per role. Change or deactivate them on any real deployment."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.accounts import create_user
from data.models import User
from data.units import unit_by_code

# username, password, role, home unit, display name
DEMO_USERS = (
    ("admin", "demo-admin-2026", "admin", "HQ", "演示管理员 Demo admin"),
    ("manager", "demo-manager-2026", "manager", "ZJ-HZ-01", "上城区经理 Shangcheng manager"),
    ("viewer", "demo-viewer-2026", "viewer", "ZJ-HZ", "杭州查看者 Hangzhou viewer"),
    ("display", "demo-display-2026", "display", "ZJ", "客服中心大屏 Service-centre display"),
)


def ensure_demo_users(session: Session) -> list[str]:
    """Create the demo accounts that do not exist yet; return a line per account created."""
    made = []
    for username, password, role, unit, name in DEMO_USERS:
        if session.scalar(select(User).where(User.username == username)) is not None:
            continue
        if unit_by_code(session, unit) is None:
            continue
        create_user(session, username, role, unit, password, name)
        made.append(f"Demo account {username} / {password} ({role} at {unit}); change it.")
    return made
