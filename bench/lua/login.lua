-- POST /api/api-token-auth/ with BENCH_EMAIL and BENCH_PASSWORD (a correct pair).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local prepared

function init(args)
  local body = '{"username":"' .. os.getenv("BENCH_EMAIL") .. '","password":"' ..
    os.getenv("BENCH_PASSWORD") .. '"}'
  prepared = wrk.format("POST", "/api/api-token-auth/",
    {["Content-Type"] = "application/json"}, body)
end

function request()
  return prepared
end
