"""The system-health page reads in Spanish, the checks' own details included."""

from __future__ import annotations

from adflux.web.views.system_health import check_detail


def test_the_checks_details_are_in_the_readers_language(app, web_as):  # type: ignore[no-untyped-def]
    html = web_as("admin").get("/system-health").get_data(as_text=True)
    assert "aún no hay un modelo activo" in html
    assert "no active model yet" not in html
    with app.test_request_context(headers={"Accept-Language": "es-CO"}):
        assert check_detail("active model v7 artifact is missing") == "falta el archivo del modelo activo v7"
        assert (
            check_detail("connection refused (10061)") == "connection refused (10061)"
        )  # others as they are
