-- Prints wrk's results as one machine-readable line for scripts/bench.
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "WRK requests=%.0f bytes=%.0f duration_us=%.0f p50_us=%.0f p99_us=%.0f "
            .. "errors=%.0f connect=%.0f read=%.0f write=%.0f status=%.0f timeout=%.0f\n",
        summary.requests, summary.bytes, summary.duration,
        latency:percentile(50.0), latency:percentile(99.0),
        e.connect + e.read + e.write + e.status + e.timeout,
        e.connect, e.read, e.write, e.status, e.timeout))
end
