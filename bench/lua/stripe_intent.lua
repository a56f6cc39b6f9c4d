-- The fake Stripe alone: POST /v1/payment_intents (create + confirm), one fresh
-- PaymentMethod and Idempotency-Key per request, as StripeGateway.charge sends it.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local auth, prefix

function init(args)
  load_tokens()
  auth = os.getenv("BENCH_AUTH")
  prefix = os.getenv("BENCH_RUN_ID") .. "-" .. id .. "-"
end

function request()
  local token = take_token()
  local body = "amount=2099&currency=usd&confirm=true&payment_method_types[0]=card" ..
    "&metadata[order_id]=" .. sent .. "&payment_method=" .. token
  return wrk.format("POST", "/v1/payment_intents", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = auth,
    ["Idempotency-Key"] = prefix .. sent,
  }, body)
end
