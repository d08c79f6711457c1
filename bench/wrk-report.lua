-- wrk reporting hook for bench/load.sh: one machine-readable line with
-- requests/s, p50/p99 latency in microseconds, and the failure counts
-- (non-2xx/3xx answers and socket errors), so nothing is parsed from
-- wrk's human output.
done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format("WRK_RESULT rps=%.1f p50_us=%d p99_us=%d requests=%d non2xx=%d errors=%d\n",
    summary.requests / seconds, latency:percentile(50), latency:percentile(99),
    summary.requests, summary.errors.status, errors))
end
