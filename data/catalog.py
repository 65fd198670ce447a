"""The "6+6" catalogue (six operating cores, six supporting carriers) as seed data.

The store holds the catalogue and it is editable there (a company may rename or re-map cores and
carriers); these declarations only seed an empty store and never overwrite edits.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Carrier, Core

# id, code, zh, en, question zh, question en
CORES = (
    (1, "channel", "渠道运营", "Channel operations",
     "各载体是否全部在线、可达并承载业务？", "Are all carriers live, reachable and carrying traffic?"),
    (2, "user", "用户运营", "User operations",
     "是否在获取、绑定、画像并留住用户？", "Are we gaining, binding, profiling and keeping users?"),
    (3, "business", "业务运营", "Service-product operations",
     "业务是否在线申请、在线交费、电子账单并快速办结？",
     "Are services applied for, paid and billed online, and fast?"),
    (4, "content", "内容运营", "Content operations",
     "通知和文章是否触达并吸引用户？", "Do notices and articles reach people and engage them?"),
    (5, "campaign", "活动运营", "Campaign operations",
     "活动是否以合理成本实现转化？", "Do campaigns convert, at a sensible cost?"),
    (6, "service", "服务运营", "Service-quality operations",
     "客户诉求（95598 工单、投诉）是否得到及时妥善解决？",
     "Are customers' requests (95598 work orders, complaints) resolved well and on time?"),
)

# id, code, zh, en, kind
CARRIERS = (
    (1, "app", "网上国网/南网在线 App", "Mobile app", "online"),
    (2, "wechat", "微信公众号/小程序", "WeChat account & mini-program", "online"),
    (3, "alipay", "支付宝生活号", "Alipay life account", "online"),
    (4, "web", "网上营业厅", "Web business hall", "online"),
    (5, "hotline", "95598 热线", "95598 hotline (voice and smart agent)", "remote"),
    (6, "hall", "实体营业厅/自助终端", "Service halls & self-service terminals", "offline"),
)

# The codes, in display order: every other list of cores or carriers in the code derives from these.
CORE_CODES = tuple(c[1] for c in CORES)
CARRIER_CODES = tuple(c[1] for c in CARRIERS)
ONLINE_CARRIER_CODES = tuple(c[1] for c in CARRIERS if c[4] == "online")  # as seeded
CARRIER_IDS = {c[1]: c[0] for c in CARRIERS}  # code -> id, as seeded


def ensure_catalog(session: Session) -> int:
    """Insert the cores and carriers that the store lacks (by code); return how many were added."""
    have_cores = set(session.scalars(select(Core.code)))
    have_carriers = set(session.scalars(select(Carrier.code)))
    added = 0
    for order, (id_, code, zh, en, q_zh, q_en) in enumerate(CORES, start=1):
        if code not in have_cores:
            session.add(Core(id=id_, code=code, name_zh=zh, name_en=en, question_zh=q_zh,
                             question_en=q_en, sort_order=order))
            added += 1
    for order, (id_, code, zh, en, kind) in enumerate(CARRIERS, start=1):
        if code not in have_carriers:
            session.add(Carrier(id=id_, code=code, name_zh=zh, name_en=en, kind=kind,
                                sort_order=order))
            added += 1
    session.flush()
    return added



def carriers(session: Session) -> list[Carrier]:
    """Return the carriers in display order."""
    return list(session.scalars(select(Carrier).order_by(Carrier.sort_order)))


def cores(session: Session) -> list[Core]:
    """Return the operating cores in display order."""
    return list(session.scalars(select(Core).order_by(Core.sort_order)))
