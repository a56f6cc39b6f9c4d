-- GET BENCH_PATH, with BENCH_AUTH as Authorization and BENCH_IF_NONE_MATCH if set.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local prepared

function init(args)
  local headers = {}
  if os.getenv("BENCH_AUTH") then headers["Authorization"] = os.getenv("BENCH_AUTH") end
  if os.getenv("BENCH_IF_NONE_MATCH") then
    headers["If-None-Match"] = os.getenv("BENCH_IF_NONE_MATCH")
  end
  prepared = wrk.format("GET", os.getenv("BENCH_PATH"), headers)
end

function request()
  return prepared
end
