"""Standard notices a page shows instead of its content."""

from __future__ import annotations

import dash_mantine_components as dmc


def not_permitted(what: str = "") -> dmc.Container:
    """Return the 'not permitted' notice (the refusal itself is decided and audited on the server)."""
    detail = f" ({what})" if what else ""
    return dmc.Container(dmc.Alert(
        f"您无权查看此内容{detail}。 You are not permitted to see this{detail}.",
        title="无权限 Not permitted", color="red", id="not-permitted"), py="xl")


def wall_display_only() -> dmc.Container:
    """Return the notice for display accounts, which may open wall-display views only."""
    return dmc.Container(dmc.Alert([
        "大屏账号只能打开大屏页面。 Display accounts can open wall-display views only. ",
        dmc.Anchor("选择播放列表 Choose a playlist →", href="/display", refresh=True)],
        title="大屏账号 Display account", color="yellow", id="display-only"), py="xl")


def risk_notice_rows(rows: list[dict], lang: str) -> list[dict]:
    """Notices of risk incidents (`risk.notify` rows) with their kind, channel and state named in
    `lang` (the codes stay in `kind_code`, `state_code`)."""
    from components.i18n import t

    return [{**r, "kind_code": r["kind"], "state_code": r["state"],
             "kind": t(f"notify.short.{r['kind']}", lang),
             "channel": t(f"notify.channel.{r['channel']}", lang),
             "state": t(f"notify.st.{r['state']}", lang)} for r in rows]
