"""Two workers uploading one segment's audience at once converge on one audience (no look-up race)."""

from __future__ import annotations

import threading

from adflux.extensions import db
from adflux.models import CandidateSegment, Segment
from adflux.services import publishing
from adflux.services.platform_access import adapter_for
from factories import make_candidate, make_segments


def test_concurrent_uploads_of_one_segment_create_one_tiktok_audience(app, app_ctx, sandbox):
    segment = make_segments(1)[0]
    segment_id, model_id = segment.id, segment.model_id
    for _ in range(3):
        member = make_candidate()
        db.session.add(CandidateSegment(model_id=model_id, candidate_id=member.id, segment_id=segment_id))
    db.session.commit()
    # Slow platform calls widen the window between looking the audience up and creating it.
    sandbox.set_faults("tiktok", latency_ms=150)
    results: list[str | None] = []

    def worker() -> None:
        with app.app_context():
            adapter, _ = adapter_for("tiktok")
            with adapter:
                results.append(publishing._segment_audience(db.session.get(Segment, segment_id), adapter))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 3 and len(set(results)) == 1 and results[0] is not None
    assert sandbox.object_counts("tiktok").get("audience") == 1
