"""Rule settings: each type's declaration refuses bad settings naming the field (zh and en), the
admin editor saves nothing that fails, and a scan skips a bad stored rule, says why, and scans on."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from data.models import AuditEvent, OrgUnit, RiskEvent, RiskEventStep, RiskRule, RiskScanRun
from metrics.risk import scan_coverage
from risk.library import STARTER
from risk.params import PARAMS, BadRule, check_params
from risk.scan import scan
from tests.conftest import DB_KINDS, DEMO_END, seeded_store

# rule type, settings, the field the refusal names, a word of its English message
BAD = [
    ("threshold", {"valeu": 0.9}, "valeu", "unknown setting"),
    ("threshold", {"op": "<"}, "value", "is required"),
    ("threshold", {"value": "0.9"}, "value", "must be a finite number"),
    ("threshold", {"value": True}, "value", "must be a finite number"),
    ("threshold", {"value": float("nan")}, "value", "must be a finite number"),
    ("threshold", {"value": 10**400}, "value", "must be a finite number"),
    ("threshold", {"value": 0.9, "op": "<="}, "op", "must be one of"),
    ("threshold", {"value": 0.9, "window": 0}, "window", "must be >= 1"),
    ("threshold", {"value": 0.9, "window": 2.5}, "window", "whole number"),
    ("threshold", {"value": 0.9, "window": 71}, "window", "<= 70"),
    ("change", {"window": 7}, "max_drop", "at least one of"),
    ("change", {"max_drop": 0}, "max_drop", "> 0"),
    ("change", {"max_drop": 1.5}, "max_drop", "<= 1"),
    ("change", {"max_rise": -1}, "max_rise", "> 0"),
    ("change", {"max_rise": 2, "window": 36}, "window", "<= 35"),
    ("change", {"max_rise": 2, "min_numerator": -1}, "min_numerator", ">= 0"),
    ("change", {"max_rise": 2, "min_count": 0}, "min_count", ">= 1"),
    ("change", {"max_drop": 0.1, "min_count": 5}, "min_count", "needs max_rise"),
    ("anomaly", {"z": 0}, "z", "> 0"),
    ("anomaly", {"weeks": 1}, "weeks", ">= 2"),
    ("anomaly", {"weeks": 11}, "weeks", "<= 10"),
    ("anomaly", {"side": "up"}, "side", "must be one of"),
    ("anomaly", {"zz": 4}, "zz", "unknown setting"),
    ("silence", {"min_usual": 0}, "min_usual", "> 0"),
    ("silence", {"min_usual": "5"}, "min_usual", "must be a finite number"),
    ("audit", {"count": 5}, "action", "is required"),
    ("audit", {"action": ""}, "action", "text of 1-32"),
    ("audit", {"action": "login_failed", "count": 0}, "count", ">= 1"),
    ("audit", {"action": "x" * 33}, "action", "text of 1-32"),
    ("magic", {}, "type", "unknown rule type"),
    ("threshold", {"value": 0.9, "op": None, "extra": 1}, "extra", "unknown setting"),
    ("threshold", [0.9], "params", "JSON object"),
    ("threshold", "{not json", "params", "JSON object"),
]


@pytest.mark.parametrize(("rule_type", "params", "field", "words"), BAD)
def test_bad_settings_are_refused_naming_the_field(rule_type, params, field, words):
    with pytest.raises(BadRule) as refused:
        check_params(rule_type, params)
    assert refused.value.field == field
    en, zh = refused.value.message("en"), refused.value.message("zh")
    assert field in en and words in en
    assert field in zh and any("\u4e00" <= ch <= "\u9fff" for ch in zh)  # in Chinese


@pytest.mark.parametrize("rule_type", list(PARAMS))
def test_every_type_accepts_its_defaults_and_fills_them_in(rule_type):
    required = {"threshold": {"value": 0.9}, "change": {"max_rise": 1.0},
                "audit": {"action": "export"}}.get(rule_type, {})
    got = check_params(rule_type, json.dumps(required))
    assert got == {**{n: p.default for n, p in PARAMS[rule_type].items()
                      if p.default is not None}, **required}


def test_the_starter_library_passes_its_own_declaration():
    for code, _zh, _en, rule_type, _core, _kpi, _c, params, *_ in STARTER:
        assert check_params(rule_type, params), code


def _admin(s):
    from auth.accounts import create_user

    s.add(OrgUnit(id=1, code="HQ", name_zh="总部", name_en="HQ", tier=1, path="/000001/"))
    s.flush()
    return create_user(s, "root", "admin", "HQ", "a long password")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_editor_refuses_a_misspelt_setting_and_keeps_the_old_ones(empty_store, lang):
    from auth.accounts import AccountError
    from risk import rules_admin

    with Session(empty_store.engine) as s:
        root = _admin(s)
        root.language = lang
        s.commit()
        rule = s.scalar(select(RiskRule).where(RiskRule.code == "availability_low"))
        before = rule.params
        with pytest.raises(AccountError) as refused:
            rules_admin.update_rule(s, root, "availability_low", "params", '{"valeu": 0.9}')
        assert "valeu" in str(refused.value)
        assert ("unknown setting" in str(refused.value)) == (lang == "en")
        assert ("未知参数" in str(refused.value)) == (lang == "zh")
        for bad in ('{"value": "high"}', '{"value": 0.9, "window": 0}', '{}'):
            with pytest.raises(AccountError):
                rules_admin.update_rule(s, root, "availability_low", "params", bad)
        s.rollback()  # what the page does on a refusal
        s.expire_all()
        assert s.scalar(select(RiskRule.params).where(RiskRule.code == "availability_low")) \
            == before
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "rule_change")) == 0
        rules_admin.update_rule(s, root, "complaint_surge", "params",
                          '{"window": 7, "max_rise": 2.0, "min_count": 10}')
        assert json.loads(s.scalar(select(RiskRule.params).where(
            RiskRule.code == "complaint_surge")))["min_count"] == 10


def _found(s, skip: set[str]):
    return sorted((code, unit, first, last) for code, unit, first, last in s.execute(
        select(RiskRule.code, RiskEvent.unit_id, RiskEvent.first_day, RiskEvent.last_day)
        .join(RiskRule, RiskRule.id == RiskEvent.rule_id)) if code not in skip)


@pytest.mark.parametrize("kind", DB_KINDS)
def test_a_scan_skips_bad_stored_rules_says_why_and_finds_the_rest(kind, tmp_path):
    """Bad settings written straight into the store (bypassing the editor), a rule of an unknown
    type and one of an unknown KPI: the scan skips those three, keeps why on each rule (audited
    once), and finds the same events of every other rule as the demo's own scan did."""
    store = seeded_store(kind, tmp_path)
    try:
        with Session(store.engine) as s:
            bad = {"availability_low", "odd_type", "odd_kpi"}
            expected = _found(s, bad)
            assert expected and any(c == "availability_low" for c, *_ in _found(s, set()))
            first = s.scalar(select(func.min(RiskEvent.first_day)))
            s.execute(delete(RiskEventStep))
            s.execute(delete(RiskEvent))
            s.execute(delete(RiskScanRun))
            s.execute(update(RiskRule).where(RiskRule.code == "availability_low")
                      .values(params='{"valeu": 0.9}'))
            for code, type_, kpi in (("odd_type", "magic", "channel_availability"),
                                     ("odd_kpi", "threshold", "no_such_kpi")):
                s.add(RiskRule(code=code, name_zh=code, name_en=code, type=type_, core="channel",
                               kpi=kpi, params='{"value": 1}', tiers="3,4", severity="low",
                               owner_tier=3, deadline_hours=24, active=True))
            s.commit()
            stats = scan(s, first, DEMO_END)
            s.commit()
            assert stats["new"] == len(expected)
            assert _found(s, set()) == expected  # nothing of the bad rules, all of the others
            reasons = dict(s.execute(select(RiskRule.code, RiskRule.skip_reason)
                                     .where(RiskRule.skip_reason.is_not(None))).all())
            assert set(reasons) == bad
            assert "valeu" in reasons["availability_low"] and "unknown setting" in \
                reasons["availability_low"] and "未知参数" in reasons["availability_low"]
            assert "magic" in reasons["odd_type"] and "no_such_kpi" in reasons["odd_kpi"]
            # A run that skipped rules never looked for their breaches: it covers no day.
            run = s.scalars(select(RiskScanRun).order_by(RiskScanRun.id.desc())).first()
            assert (run.first_day, run.last_day, run.skipped) == (first, DEMO_END, 3)
            assert scan_coverage(s) == []  # the demo's own runs were deleted above
            scan(s, DEMO_END - dt.timedelta(days=2), DEMO_END)  # skipped again: audited once
            s.commit()
            assert sorted(s.scalars(select(AuditEvent.target).where(
                AuditEvent.action == "risk_rule_skipped"))) == sorted(bad)
            s.execute(update(RiskRule).where(RiskRule.code == "availability_low")
                      .values(params='{"op": "<", "value": 0.97}'))
            scan(s, DEMO_END, DEMO_END)
            fixed = s.scalar(select(RiskRule).where(RiskRule.code == "availability_low"))
            assert fixed.skip_reason is None and fixed.skipped_at is None
            assert scan_coverage(s) == []  # odd_type and odd_kpi were still skipped
            s.execute(update(RiskRule).where(RiskRule.code.in_(["odd_type", "odd_kpi"]))
                      .values(active=False))
            scan(s, DEMO_END, DEMO_END)
            assert scan_coverage(s) == [(DEMO_END, DEMO_END)]
            s.rollback()
    finally:
        store.drop()


def test_the_rules_admin_page_shows_skips_and_the_settings_of_each_type(empty_store):
    from risk import rules_admin

    with Session(empty_store.engine) as s:
        root = _admin(s)
        s.execute(update(RiskRule).where(RiskRule.code == "binding_low")
                  .values(params='{"valeu": 0.4}'))
        scan(s, DEMO_END, DEMO_END)
        rows = {r["code"]: r for r in rules_admin.risk_rules(s, root)}
        assert "valeu" in rows["binding_low"]["skip_reason"] and rows["binding_low"]["skipped_at"]
        assert rows["availability_low"]["skip_reason"] == ""
        s.rollback()


def test_the_admin_page_lists_each_types_settings_in_the_users_language(app):
    from tests.test_pages import render

    page = render(app, "admin", "admin")
    assert "admin-rule-settings" in page
    assert "min_count" in page and "上一窗口为 0 时" in page  # the admin's language is Chinese
