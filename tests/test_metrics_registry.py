"""The KPI registry is complete (every KPI of DOMAIN.md) and every declaration is well-formed."""

from __future__ import annotations

import pytest

from data.catalog import CARRIERS, CORES
from data.models import Base
from metrics import registry, sql

DOMAIN_KPIS = {
    "channel": ["channel_availability", "online_substitution", "visits", "transactions"],
    "user": ["registered_users", "new_registrations", "binding_rate", "mau", "activity_rate",
             "profile_coverage"],
    "business": ["online_handling", "online_payment", "payment_amount", "ebill_rate",
                 "avg_handling_days"],
    "content": ["pushes", "open_rate", "click_rate"],
    "campaign": ["participants", "conversion_rate", "cost_per_conversion"],
    "service": ["work_orders_per_10k", "complaints_per_10k", "first_contact_resolution",
                "on_time_rate", "avg_response_minutes", "satisfaction",
                # the 95598 hotline as a contact centre (DOMAIN.md)
                "service_level", "abandonment_rate", "avg_speed_of_answer", "avg_handle_time"],
}
LOWER_IS_BETTER = {"avg_handling_days", "cost_per_conversion", "work_orders_per_10k",
                   "complaints_per_10k", "avg_response_minutes", "abandonment_rate",
                   "avg_speed_of_answer", "avg_handle_time"}
KINDS = {"registered_users": "stock", "mau": "distinct", "visits": "sum", "transactions": "sum",
         "new_registrations": "sum", "payment_amount": "sum", "pushes": "sum",
         "participants": "sum"}


def test_every_domain_kpi_is_declared_once_under_its_core():
    assert {c: [k.id for k in registry.for_core(c)] for c in registry.CORES} == DOMAIN_KPIS
    assert len(registry.REGISTRY) == len(registry.KPIS) == 31
    assert list(registry.CORES) == [c[1] for c in CORES]


@pytest.mark.parametrize("kpi", registry.KPIS, ids=lambda k: k.id)
def test_declaration_is_well_formed(kpi):
    assert kpi.better == ("lower" if kpi.id in LOWER_IS_BETTER else "higher")
    assert kpi.kind == KINDS.get(kpi.id, "ratio")
    assert kpi.name_zh and kpi.name_en and kpi.formula_zh and kpi.formula_en
    assert set(kpi.carriers) <= {c[1] for c in CARRIERS}
    format(1234.5, kpi.fmt)  # a valid format spec
    for m in kpi.measures:
        source = registry.SOURCES[m.source]
        table = Base.metadata.tables[source.table]
        assert m.column is None or m.column in table.c
        assert source.date_column in table.c
        if m.filter:
            sql.filter_expr(table, m.filter)  # raises for an unknown filter
    if kpi.kind == "ratio":
        assert kpi.denominator is not None
    else:
        assert kpi.denominator is None and kpi.scale == 1


def test_per_10k_kpis_scale_and_prorate():
    for kpi_id in ("work_orders_per_10k", "complaints_per_10k"):
        kpi = registry.get(kpi_id)
        assert kpi.scale == 10_000 and kpi.prorated_target
    assert registry.get("visits").prorated_target
    assert not registry.get("satisfaction").prorated_target
    assert not registry.get("registered_users").prorated_target


def test_matrix_applicability():
    assert [k.id for k in registry.applicable("content", "hotline")] == []
    assert [k.id for k in registry.applicable("channel", "app")] == [
        "channel_availability", "visits", "transactions"]


def test_the_hotline_kpis_are_scored_on_the_hotline_only_and_roll_up_sum_over_sum():
    for kpi_id in ("service_level", "abandonment_rate", "avg_speed_of_answer", "avg_handle_time"):
        kpi = registry.get(kpi_id)
        assert kpi.carriers == ("hotline",) and kpi.kind == "ratio" and kpi.splits_by_carrier
        assert {m.source for m in kpi.measures} == {"hotline"} and not kpi.prorated_target
    assert registry.SOURCES["hotline"].rollup == "flow"
