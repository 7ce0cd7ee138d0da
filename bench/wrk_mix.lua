-- wrk script for bench_http.py's soak: each request is one of the three measured endpoints in turn
-- (job list, campaign list, performance report). The Authorization header comes from wrk's -H.
local paths = { "/api/v1/jobs", "/api/v1/campaigns", "/api/v1/reports/performance" }
local n = 0

request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end
