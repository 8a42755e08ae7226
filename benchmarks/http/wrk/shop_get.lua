-- wrk script: GET a random path of a file, one path a line (product details, list pages by
-- cursor, search queries), so that every request reads another row, as the lab's
-- random_product.lua does with ids.
--   PATHS_FILE  the file of paths (required), e.g. /api/v1/catalog/products/<slug>/
local file = assert(os.getenv("PATHS_FILE"), "PATHS_FILE is required")
local paths = {}
for line in io.lines(file) do
  if line ~= "" then paths[#paths + 1] = line end
end
assert(#paths > 0, "no paths in " .. file)

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  math.randomseed(os.time() * 100 + (tid or 0))
end

function request()
  return wrk.format("GET", paths[math.random(1, #paths)])
end
