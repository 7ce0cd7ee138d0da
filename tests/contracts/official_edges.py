"""More request bodies checked against the official libraries: the edges ``official.check`` left out.

Meta report runs (``POST /<id>/insights``) against ``get_insights_async``'s own parameter types and
``AdsInsights`` enums; Meta audience users against ``CustomAudienceMixin.Schema``; X async stats jobs
against the parameters ``twitter-ads`` builds for ``queue_async_stats_job``.
"""

from __future__ import annotations

import inspect
import json
import re
from datetime import datetime
from functools import cache
from typing import Any

from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adsinsights import AdsInsights
from facebook_business.adobjects.helpers.customaudiencemixin import CustomAudienceMixin
from twitter_ads.campaign import LineItem

_INSIGHTS = re.compile(r"^/v[\d.]+/(act_)?\d+/insights$")
_USERS = re.compile(r"^/v[\d.]+/\d+/users$")
_X_STATS = re.compile(r"^/\d+/stats/jobs/accounts/[0-9a-z]+$")
_INSIGHT_ENUMS = {
    "level": AdsInsights.Level,
    "date_preset": AdsInsights.DatePreset,
    "action_report_time": AdsInsights.ActionReportTime,
}


def _values(enum: Any) -> set[str]:
    return {
        value for name, value in vars(enum).items() if not name.startswith("_") and isinstance(value, str)
    }


@cache
def insights_parameters() -> frozenset[str]:
    """The parameter names facebook-business declares for an async insights report run."""
    source = inspect.getsource(AdAccount.get_insights_async)
    block = source.split("param_types = {", 1)[1].split("}", 1)[0]
    return frozenset(re.findall(r"'(\w+)':", block))


@cache
def x_stats_parameters() -> frozenset[str]:
    """The parameter names twitter-ads puts on an async stats job."""
    day = datetime(2025, 3, 3)
    standard = LineItem._standard_params(
        ["1"], ["ENGAGEMENT"], granularity="DAY", start_time=day, end_time=day
    )
    return frozenset(standard) | {"platform", "country", "segmentation_type"}


def _meta_insights(form: dict[str, str]) -> list[str]:
    problems = [
        f"insights: {key} is not a report-run parameter" for key in form if key not in insights_parameters()
    ]
    fields = _values(AdsInsights.Field)
    for name in (
        json.loads(form["fields"])
        if form.get("fields", "").startswith("[")
        else form.get("fields", "").split(",")
    ):
        if name and name not in fields:
            problems.append(f"insights: {name} is not an AdsInsights field")
    for key, enum in _INSIGHT_ENUMS.items():
        if key in form and form[key] not in _values(enum):
            problems.append(f"insights: {key}={form[key]} is not an AdsInsights value")
    return problems


def _meta_users(form: dict[str, str]) -> list[str]:
    problems = [f"users: {key} is not a users parameter" for key in form if key not in ("payload", "session")]
    payload = json.loads(form.get("payload") or "{}")
    schemas = payload.get("schema")
    for schema in schemas if isinstance(schemas, list) else [schemas]:
        if schema not in _values(CustomAudienceMixin.Schema) and schema not in _values(
            CustomAudienceMixin.Schema.MultiKeySchema
        ):
            problems.append(f"users: schema {schema} is not a CustomAudience schema")
    if not isinstance(payload.get("data"), list):
        problems.append("users: payload.data must be a list of rows")
    return problems


def check_edges(method: str, path: str, body: Any) -> list[str] | None:
    """Problems with a request to one of these edges (empty: accepted), or None when not one of them."""
    if method != "POST" or not isinstance(body, dict):
        return None
    form = {key: value if isinstance(value, str) else json.dumps(value) for key, value in body.items()}
    if _INSIGHTS.match(path):
        return _meta_insights(form)
    if _USERS.match(path):
        return _meta_users(form)
    if _X_STATS.match(path):
        return [
            f"stats job: {key} is not a twitter-ads stats parameter"
            for key in form
            if key not in x_stats_parameters()
        ]
    return None
