-- POST /api/order/ with a fresh PaymentMethod per request (one per line of BENCH_TOKENS,
-- thread i takes lines i, i+n, ...) and a unique Idempotency-Key, as the frontend does.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local auth, product, prefix

function init(args)
  load_tokens()
  auth = os.getenv("BENCH_AUTH")
  product = os.getenv("BENCH_PRODUCT")
  prefix = os.getenv("BENCH_RUN_ID") .. "-" .. id .. "-"
end

function request()
  local token = take_token()
  local body = '{"product":' .. product .. ',"token":"' .. token .. '"}'
  return wrk.format("POST", "/api/order/", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = auth,
    ["Idempotency-Key"] = prefix .. sent,
  }, body)
end
