-- The fake Stripe alone: POST /v1/payment_intents (create + confirm), one fresh
-- PaymentMethod and Idempotency-Key per request, as StripeGateway.charge sends it.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local tokens = {}
local next_token = 1
local sent = 0
local auth, prefix

function init(args)
  local threads = tonumber(os.getenv("BENCH_THREADS"))
  local line_number = 0
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    if line_number % threads == id then table.insert(tokens, line) end
    line_number = line_number + 1
  end
  auth = os.getenv("BENCH_AUTH")
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
  local body = "amount=2099&currency=usd&confirm=true&payment_method_types[0]=card" ..
    "&metadata[order_id]=" .. sent .. "&payment_method=" .. token
  return wrk.format("POST", "/v1/payment_intents", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = auth,
    ["Idempotency-Key"] = prefix .. sent,
  }, body)
end
