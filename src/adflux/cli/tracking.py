"""`adflux tracking`: first-hand applications — links, buffered clicks, the report, retention, erasure."""

from __future__ import annotations

from typing import Any

import click

from adflux.catalogue import N_
from adflux.catalogue import gettext as _
from adflux.cli import CliContext, pass_cli
from adflux.cli.choices import LINK_MODE
from adflux.cli.output import console, cop, number, print_json, print_table

PLATFORM_NAMES = {
    "meta": "Meta",
    "google": "Google Ads",
    "tiktok": "TikTok",
    "snapchat": "Snapchat",
    "x": "X",
}


@click.group("tracking")
def tracking_group() -> None:
    """Applications measured by AdFlux: links, clicks, report, retention and erasure (Ley 1581)."""


@tracking_group.command("links")
@click.argument("campaign_id", type=int)
@click.option("--mode", type=LINK_MODE, default="redirect", show_default=True)
@click.option(
    "--base-url", default="http://127.0.0.1:5000", show_default=True, help=N_("Where /r/<code> is served.")
)
@pass_cli
def tracking_links(cli: CliContext, campaign_id: int, mode: str, base_url: str) -> None:
    """Make (once) and list the tracking link of every ad group of a campaign."""
    from adflux.services.tracking import links

    with cli.app.app_context():
        made = links.ensure_campaign_links(campaign_id=campaign_id, mode=mode)
        rows = [
            {
                "platform": PLATFORM_NAMES.get(link.platform, link.platform),
                "ad_group_id": link.ad_group_id,
                "code": link.code,
                "url": links.ad_url(link, base_url=base_url),
            }
            for link in made
        ]
    if cli.as_json:
        return print_json(rows)
    print_table(
        _("Tracking links of campaign %(campaign_id)s", campaign_id=campaign_id),
        [(N_("Platform"), "platform"), (N_("Group"), "ad_group_id"), (N_("Link"), "url")],
        rows,
    )


@tracking_group.command("flush")
@pass_cli
def tracking_flush(cli: CliContext) -> None:
    """Write the clicks buffered while the database was down."""
    from adflux.services.tracking import clicks

    with cli.app.app_context():
        written = clicks.flush_buffered_clicks()
    if cli.as_json:
        return print_json({"written": written})
    console.print(_("Clicks written from the buffer: %(written)s", written=number(written)))


@tracking_group.command("report")
@click.option("--campaign", "campaign_id", type=int, help=N_("Only this campaign."))
@pass_cli
def tracking_report(cli: CliContext, campaign_id: int | None) -> None:
    """First-hand applications and CPA beside those the platforms report, with the difference."""
    from adflux.services.tracking import first_hand

    with cli.app.app_context():
        report = first_hand.first_hand_report(campaign_id=campaign_id)
    if cli.as_json:
        return print_json(report)
    print_first_hand(report)


def print_first_hand(report: dict[str, Any], title: str | None = None) -> None:
    """The first-hand report as a table: both counts, the gap and both CPAs per campaign and platform."""
    columns: list[tuple[str, Any]] = [
        (N_("Campaign"), "campaign_id"),
        (N_("Platform"), lambda r: PLATFORM_NAMES.get(r["platform"], r["platform"])),
        (N_("Spend"), lambda r: cop(r["spend"])),
        (N_("Applications (platform)"), lambda r: number(r["applications_platform"])),
        (N_("Applications (own)"), lambda r: number(r["applications_first_hand"])),
        (N_("Difference"), lambda r: number(r["applications_gap"])),
        (N_("CPA (platform)"), lambda r: cop(r["cpa_platform"])),
        (N_("CPA (own)"), lambda r: cop(r["cpa_first_hand"])),
    ]
    caption = _("unattributed: %(n)s", n=number(report["unattributed"]))
    print_table(title or _("Applications measured by AdFlux"), columns, report["rows"], caption=caption)


@tracking_group.command("conversions")
@click.option(
    "--send", is_flag=True, help=N_("Send the pending ones now (the scheduler does it every minute).")
)
@pass_cli
def tracking_conversions(cli: CliContext, send: bool) -> None:
    """Applications sent to each platform's conversions API, by status."""
    if send:
        sent = cli.client.post("/tracking/conversions", json={})
        if not cli.as_json:
            console.print(
                _(
                    "Queued: %(queued)s; sent: %(values)s",
                    queued=number(sent["queued"]),
                    values=number(sum(sent["sent"].values())),
                )
            )
            for platform, error in sent["failed"].items():
                console.print(f"{PLATFORM_NAMES.get(platform, platform)}: {error}")
    counts = cli.client.get("/tracking/conversions")
    if cli.as_json:
        return print_json(counts)
    states = ("pending", "sending", "sent", "skipped", "failed")
    labels = (N_("Pending sends"), N_("Sending"), N_("Sent"), N_("Skipped sends"), N_("Failed sends"))
    columns: list[tuple[str, Any]] = [
        (N_("Platform"), lambda r: PLATFORM_NAMES.get(r["platform"], r["platform"]))
    ]
    columns += [
        (label, lambda r, s=state: number(r.get(s, 0))) for label, state in zip(labels, states, strict=True)
    ]
    rows = [{"platform": platform, **by_status} for platform, by_status in sorted(counts.items())]
    print_table(_("Conversions sent to the platforms"), columns, rows)


@tracking_group.command("prune")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    help=N_("Retention in days (default ADFLUX_TRACKING_RETENTION_DAYS)."),
)
@pass_cli
def tracking_prune(cli: CliContext, days: int | None) -> None:
    """Delete raw clicks and application events older than the retention."""
    from adflux.services.tracking import privacy

    with cli.app.app_context():
        result = privacy.prune(retention_days=days)
    if cli.as_json:
        return print_json(result.__dict__)
    console.print(
        _(
            "Deleted: %(clicks)s clicks and %(events)s applications",
            clicks=number(result.clicks),
            events=number(result.events),
        )
    )


@tracking_group.command("erase")
@click.option("--email", help=N_("The candidate's e-mail (or its SHA-256)."))
@click.option("--phone", help=N_("The candidate's phone (or its SHA-256)."))
@pass_cli
def tracking_erase(cli: CliContext, email: str | None, phone: str | None) -> None:
    """Erase a candidate's identifiers from first-hand data on request (Ley 1581); audited."""
    if not email and not phone:
        raise click.UsageError(_("Give --email or --phone"))
    result = cli.client.post("/tracking/erasures", json={"email": email, "phone": phone})
    if cli.as_json:
        return print_json(result)
    console.print(
        _(
            "Identifiers deleted from %(application_events)s applications",
            application_events=number(result["application_events"]),
        )
    )


def register(group: click.Group) -> None:
    group.add_command(tracking_group)
