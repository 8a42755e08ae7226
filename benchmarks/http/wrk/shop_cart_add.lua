-- wrk script: the shop's add to cart, POST /api/v1/carts/<token>/lines/ {"sku", "quantity": 1},
-- on carts created beforehand (untimed, as Oscar's baskets are created by its first add; the
-- shop creates a cart with a request of its own). As the lab's oscar_basket_add.lua: each cart
-- receives ADDS_PER_CART adds (default 3) of random SKUs, and a thread sends to a pool of POOL
-- carts round-robin, so that two requests in flight practically never share a cart (a clash
-- would wait on the cart's lock). Each wrk thread takes its own share of the carts.
--   CARTS_FILE  cart tokens, one a line (required)
--   SKUS_FILE   SKUs in stock, one a line (required)
local per = tonumber(os.getenv("ADDS_PER_CART") or "3")
local pool = tonumber(os.getenv("POOL") or "64")
local nthreads = tonumber(os.getenv("WRK_THREADS") or "2")
local carts_all, skus = {}, {}
for line in io.lines((assert(os.getenv("CARTS_FILE"), "CARTS_FILE is required"))) do
  if line ~= "" then carts_all[#carts_all + 1] = line end
end
for line in io.lines((assert(os.getenv("SKUS_FILE"), "SKUS_FILE is required"))) do
  if line ~= "" then skus[#skus + 1] = line end
end
local carts = {}
local n = 0

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  math.randomseed(os.time() * 100 + (tid or 0))
  for i = tid or 1, #carts_all, nthreads do carts[#carts + 1] = carts_all[i] end
  assert(#carts > 0, "no carts for thread " .. tostring(tid))
end

function request()
  local slot = n % pool
  local gen = math.floor(n / (pool * per))
  n = n + 1
  -- when the carts run out the thread starts over with its first ones (they get more lines)
  local cart = carts[((gen * pool + slot) % #carts) + 1]
  local body = string.format('{"sku": "%s", "quantity": 1}', skus[math.random(1, #skus)])
  return wrk.format("POST", "/api/v1/carts/" .. cart .. "/lines/", {["Content-Type"] = "application/json"}, body)
end
