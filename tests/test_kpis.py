"""CTR, CPC and CPA are defined once, with one zero rule, and every reader uses that definition."""

from __future__ import annotations

from adflux import kpis
from adflux.monitoring.facts import CampaignCpa
from adflux.services.reports import derive


def test_ratios_are_none_when_their_denominator_is_zero() -> None:
    assert kpis.ctr(5, 0) is None and kpis.cpc(100.0, 0) is None and kpis.cpa(100.0, 0) is None
    assert kpis.ctr(5, 200) == 0.025
    assert kpis.cpc(1000.0, 3) == 333.33
    assert kpis.cpa(90_000.0, 4) == 22_500.0


def test_the_least_a_cpa_can_be_is_the_spend_before_the_first_application() -> None:
    assert kpis.cpa_at_least(50_000.0, 0) == 50_000.0
    assert kpis.cpa_at_least(50_000.0, 2) == 25_000.0


def test_reports_and_alert_facts_compute_the_same_cpa() -> None:
    for spend, applications in ((123_456.0, 7), (0.0, 3), (80_000.0, 0)):
        report = derive({"spend_micros": int(spend * 1_000_000), "applications": applications})
        fact = CampaignCpa(1, "c", spend, applications, 10_000)
        assert report["cpa"] == fact.cpa == kpis.cpa(spend, applications)
