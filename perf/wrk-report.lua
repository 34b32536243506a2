-- wrk script: optional request body (WRK_BODY_BYTES, sent as POST) and a one-line JSON summary
-- with the percentiles wrk --latency does not print (p99.9).
local body_bytes = tonumber(os.getenv("WRK_BODY_BYTES") or "0")
if body_bytes > 0 then
   wrk.method = "POST"
   wrk.body = string.rep("b", body_bytes)
   wrk.headers["Content-Type"] = "application/octet-stream"
end

done = function(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p99_us": %d, ' ..
      '"p999_us": %d, "mean_us": %.1f, "max_us": %d, "err_connect": %d, "err_read": %d, ' ..
      '"err_write": %d, "err_status": %d, "err_timeout": %d}\n',
      summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
      latency.mean, latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
