-- wrk script of the bench/ scripts: WRK_METHOD (e.g. HEAD) sets the method; done()
-- prints one machine-readable RESULT line (exact counts, latency in microseconds).
local method = os.getenv("WRK_METHOD")
if method and method ~= "" then wrk.method = method end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d bytes=%d duration_us=%d errors=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.bytes, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
