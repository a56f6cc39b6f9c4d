-- Shared by every benchmark script: counts non-2xx answers per thread (304 is fine) and
-- prints one machine-readable line at the end, which bench/run.py parses.
local threads = {}
non2xx = 0
reused = 0
codes = ""

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function response(status, headers, body)
  if (status < 200 or status > 299) and status ~= 304 then
    non2xx = non2xx + 1
    if non2xx <= 20 then codes = codes .. status .. " " end
  end
end

function done(summary, latency, requests)
  local bad, again, seen = 0, 0, ""
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
    again = again + (thread:get("reused") or 0)
    seen = seen .. (thread:get("codes") or "")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,"reused_tokens":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d,"codes":"%s"}\n',
    summary.requests, summary.duration, summary.bytes, bad, again,
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max, seen))
end

-- Fresh card tokens for the buying scripts: one per line of BENCH_TOKENS, thread i taking
-- lines i, i+n, ...; a thread that runs out starts again from its first (counted as reused).
local tokens = {}
local next_index = 1
sent = 0

function load_tokens()
  local threads = tonumber(os.getenv("BENCH_THREADS"))
  local line_number = 0
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    if line_number % threads == id then table.insert(tokens, line) end
    line_number = line_number + 1
  end
end

function take_token()
  local token = tokens[next_index]
  if token == nil then
    next_index, token = 1, tokens[1]
    reused = reused + 1
  end
  next_index = next_index + 1
  sent = sent + 1
  return token
end
