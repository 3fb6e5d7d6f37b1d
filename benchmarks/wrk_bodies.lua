-- A distinct request each time: wrk ... -s wrk_bodies.lua URL -- METHOD PATH LINES BASE
-- LINES holds one request per line, with @ID@ where a unique id goes. For POST a line is
-- the JSON body (sent to PATH); for GET it is the path and query. Each request takes the
-- next line (threads start at different lines) and a fresh id: BASE + thread * 100000000 + n,
-- so no two requests of a run share an id.
local threads = 0

function setup(thread)
  thread:set("thread_number", threads)
  threads = threads + 1
end

function init(args)
  method = args[1]
  path = args[2]
  lines = {}
  for line in io.lines(args[3]) do
    lines[#lines + 1] = line
  end
  thread_base = tonumber(args[4]) + (thread_number or 0) * 100000000
  offset = (thread_number or 0) * 7919
  sent = 0
  if method == "POST" then
    wrk.headers["Content-Type"] = "application/json"
  end
end

function request()
  sent = sent + 1
  local line = lines[(offset + sent) % #lines + 1]:gsub("@ID@", tostring(thread_base + sent))
  if method == "POST" then
    return wrk.format("POST", path, nil, line)
  end
  return wrk.format("GET", line, nil, nil)
end
