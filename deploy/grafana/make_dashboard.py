"""Writes deploy/grafana/dashboards/adflux-operations.json (run from the repository root).

Edit the panels here, run `python3 deploy/grafana/make_dashboard.py`, commit both;
tests/ops/test_grafana_dashboard.py checks every metric the JSON queries exists.
"""
import json
REAL = 'route!~"/healthz|/readyz|/metrics"'
P = {"type": "prometheus", "uid": "adflux-prometheus"}
L = {"type": "loki", "uid": "adflux-loki"}
panels = []
y = 0
pid = 0
def row(title):
    global y, pid
    pid += 1
    panels.append({"type": "row", "title": title, "id": pid, "collapsed": False,
                   "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}})
    y += 1
def add(items):
    global y, pid
    w = 24 // len(items)
    for i, (title, kind, unit, targets, desc) in enumerate(items):
        pid += 1
        panels.append({
            "id": pid, "type": kind, "title": title, "description": desc,
            "datasource": P,
            "gridPos": {"h": 8, "w": w, "x": i * w, "y": y},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "options": {},
            "targets": [{"refId": chr(65 + j), "datasource": P, "expr": e, "legendFormat": lf}
                        for j, (e, lf) in enumerate(targets)],
        })
    y += 8
row("Tráfico (web)")
add([
 ("Solicitudes por segundo", "timeseries", "reqps", [(f'sum by (route) (rate(adflux_http_requests_total{{{REAL}}}[5m]))', "{{route}}")], "Requests answered per second, by route (probes left out)."),
 ("Proporción de errores 5xx", "timeseries", "percentunit", [(f'sum(rate(adflux_http_request_errors_total{{{REAL}}}[5m])) / sum(rate(adflux_http_requests_total{{{REAL}}}[5m]))', "errores")], "Share of requests answered with a 5xx (alert: high_error_rate)."),
 ("Latencia p95", "timeseries", "s", [(f'histogram_quantile(0.95, sum by (le) (rate(adflux_http_request_duration_seconds_bucket{{{REAL}}}[5m])))', "p95"), (f'sum(rate(adflux_http_request_duration_seconds_sum{{{REAL}}}[5m])) / sum(rate(adflux_http_request_duration_seconds_count{{{REAL}}}[5m]))', "media")], "95th percentile and mean response time (alert: high_latency on the mean)."),
])
row("Instancias y colas")
add([
 ("Objetivos arriba (up)", "stat", "none", [('up{job=~"adflux-web|adflux-worker|postgres|postgres-node"}', "{{job}} {{instance}}")], "1 = Prometheus scrapes the target (alert: service_down)."),
 ("Instancias", "timeseries", "none", [('max(adflux_instances{kind="web"})', "web"), ('max by (queue) (adflux_instances{kind="worker"})', "workers {{queue}}")], "Web processes and workers consuming each queue; every web target reports the same count, hence max (alert: instances_below_minimum)."),
 ("Tareas en cola", "timeseries", "none", [("adflux_celery_queue_length", "{{queue}}")], "Messages waiting per Celery queue (alert: queue_backlog)."),
 ("Tareas fallidas", "timeseries", "none", [("sum by (task) (increase(adflux_celery_tasks_failed_total[15m]))", "{{task}}"), ("sum(rate(adflux_celery_tasks_succeeded_total[5m]))", "exitosas/s")], "Failed tasks per 15 minutes, by task."),
])
row("Base de datos")
add([
 ("PostgreSQL arriba", "stat", "none", [("pg_up", "pg_up")], "postgres_exporter reaches the database (alert: database_down)."),
 ("CPU del host de la base de datos", "timeseries", "percentunit", [('1 - avg(rate(node_cpu_seconds_total{job="postgres-node",mode="idle"}[5m]))', "CPU")], "node_exporter beside PostgreSQL (alert: database_cpu_high at 80 %)."),
 ("Conexiones", "timeseries", "none", [("adflux_db_connections", "en uso"), ("adflux_db_max_connections", "máximo"), ("sum(adflux_db_pool_connections_in_use)", "pool AdFlux")], "Client connections vs max_connections (alert: db_connection_saturation)."),
 ("Consultas p95", "timeseries", "s", [("histogram_quantile(0.95, sum by (le) (rate(adflux_db_query_duration_seconds_bucket[5m])))", "p95")], "95th percentile of query time."),
])
row("Plataformas de anuncios")
add([
 ("Llamadas a las API", "timeseries", "reqps", [("sum by (platform) (rate(adflux_platform_api_calls_total[5m]))", "{{platform}}")], "Calls per second to each platform."),
 ("Errores de las API", "timeseries", "none", [("sum by (platform) (increase(adflux_platform_api_errors_total[15m]))", "{{platform}}")], "Errors per 15 minutes, by platform."),
 ("Limitaciones (throttling)", "timeseries", "none", [("sum by (platform) (increase(adflux_platform_throttles_total[1h]))", "{{platform}}")], "Rate-limit answers per hour (alert: platform_throttling)."),
 ("Días para vencer el token", "stat", "d", [("(adflux_platform_token_expiry_timestamp_seconds - time()) / 86400", "{{platform}}")], "Days until each platform token expires (alert: token_expiring)."),
])
row("Inversión y postulaciones")
add([
 ("Inversión (COP)", "stat", "currencyCOP", [("sum(adflux_campaign_spend_pesos)", "inversión")], "Spend of the campaigns in the alert window, whole pesos."),
 ("Postulaciones", "stat", "none", [("sum(adflux_campaign_applications)", "postulaciones")], "Applications in the same window."),
 ("CPA por campaña vs objetivo", "timeseries", "currencyCOP", [("adflux_campaign_cpa_pesos", "CPA {{campaign_id}}"), ("adflux_campaign_target_cpa_pesos", "objetivo {{campaign_id}}")], "Cost per application against each campaign's target (alert: campaign_cpa_above_target)."),
 ("Campañas por estado", "timeseries", "none", [("adflux_campaigns", "{{status}}"), ("adflux_campaigns_awaiting_approval", "esperando aprobación")], "Campaigns by status."),
])
row("Calidad del modelo y alertas")
add([
 ("Silueta del modelo activo", "stat", "none", [("adflux_model_silhouette", "v{{version}}")], "Silhouette of the active segmentation model."),
 ("Deriva (PSI)", "timeseries", "none", [("adflux_model_drift", "PSI")], "Population stability index vs training (alert: segmentation_drift at 0.25)."),
 ("Alertas abiertas", "stat", "none", [("sum by (severity) (adflux_alerts_open)", "{{severity}}")], "Open AdFlux alerts by severity."),
 ("Sincronizaciones fallidas seguidas", "stat", "none", [("adflux_metrics_sync_consecutive_failures", "fallas")], "Consecutive failed metrics syncs (alert: metrics_sync_failing)."),
])
row("Registros")
pid += 1
panels.append({"id": pid, "type": "logs", "title": "Errores en los registros (Loki)", "datasource": L,
  "description": "JSON log lines shipped by Vector; level ERROR or worse.",
  "gridPos": {"h": 10, "w": 24, "x": 0, "y": y}, "options": {"showTime": True, "wrapLogMessage": True},
  "targets": [{"refId": "A", "datasource": L, "expr": '{service="adflux"} | json | level=~"ERROR|CRITICAL"'}]})
dash = {"uid": "adflux-operations", "title": "AdFlux · Operación", "tags": ["adflux"], "timezone": "America/Bogota",
        "schemaVersion": 39, "version": 1, "editable": False, "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"}, "panels": panels, "templating": {"list": []}, "annotations": {"list": []}}
json.dump(dash, open("deploy/grafana/dashboards/adflux-operations.json", "w"), ensure_ascii=False, indent=2)
print(len(panels))
