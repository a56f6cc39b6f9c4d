-- POST /api/order/ with a fresh PaymentMethod per request (one per line of BENCH_TOKENS,
-- thread i takes lines i, i+n, ...) and a unique Idempotency-Key, as the frontend does.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local tokens = {}
local next_token = 1
local sent = 0
local auth, product, prefix

function init(args)
  local threads = tonumber(os.getenv("BENCH_THREADS"))
  local line_number = 0
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    if line_number % threads == id then table.insert(tokens, line) end
    line_number = line_number + 1
  end
  auth = os.getenv("BENCH_AUTH")
  product = os.getenv("BENCH_PRODUCT")
  prefix = os.getenv("BENCH_RUN_ID") .. "-" .. id .. "-"
end

function request()
  local token = tokens[next_token]
  if token == nil then
    next_token, token = 1, tokens[1]
    reused = reused + 1
  end
  next_token = next_token + 1
  sent = sent + 1
  local body = '{"product":' .. product .. ',"token":"' .. token .. '"}'
  return wrk.format("POST", "/api/order/", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = auth,
    ["Idempotency-Key"] = prefix .. sent,
  }, body)
end
