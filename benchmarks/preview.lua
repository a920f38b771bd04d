-- wrk script of benchmarks.rest_gateway: POST /api/v1/leases/preview, the bodies of the file
-- PREVIEW_BODIES (one JSON document a line) in turn, with the API key PREVIEW_KEY.
local bodies = {}
for line in io.lines(os.getenv("PREVIEW_BODIES")) do bodies[#bodies + 1] = line end
local next_body = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("PREVIEW_KEY")

request = function()
  next_body = next_body % #bodies + 1
  return wrk.format(nil, "/api/v1/leases/preview", nil, bodies[next_body])
end
