-- HAProxy asks wgate's identity endpoint who calls (wgate(8), GATEWAY KEYS).
--
--   global
--       lua-load /usr/local/share/wgate/haproxy/wgate-identity.lua
--   frontend api
--       http-request lua.wgate-identity unix@/run/wgate/wg0.identity orders
--       http-request deny if !{ var(txn.wgate_allowed) -m bool }
--       http-request set-header Wgate-Peer %[var(txn.wgate_peer)]
--       http-request set-header Wgate-Peer-Groups %[var(txn.wgate_groups)]
--
-- The first argument is IdentityAddress in HAProxy's spelling (unix@/PATH or
-- IP:PORT), the second a group the caller must be in, or - for any peer.
-- txn.wgate_allowed is true only for a 200; txn.wgate_peer, txn.wgate_key and
-- txn.wgate_groups are set whenever the endpoint names the caller. A request
-- the endpoint cannot answer (not running, too slow) is not allowed.

local function ask(address, group, client)
	local s = core.tcp()
	s:settimeout(1)
	local ok
	local host, port = address:match("^%[?([^%]]+)%]?:(%d+)$")
	if address:sub(1, 5) == "unix@" then
		ok = s:connect(address)
	elseif host then
		ok = s:connect(host, tonumber(port))
	end
	if not ok then
		s:close()
		return nil
	end
	local path = "/"
	if group ~= "-" then
		path = "/group/" .. group
	end
	s:send("GET " .. path .. " HTTP/1.0\r\nHost: wgate\r\nX-Forwarded-For: " .. client .. "\r\n\r\n")
	local status = s:receive("*l")
	local headers = {}
	while true do
		local line = s:receive("*l")
		if not line or line == "" or line == "\r" then
			break
		end
		local name, value = line:match("^([^:]+):%s*(.-)%s*$")
		if name then
			headers[name:lower()] = value
		end
	end
	s:close()
	return status and tonumber(status:match("^HTTP/%d%.%d (%d+)")), headers
end

core.register_action("wgate-identity", { "http-req" }, function(txn, address, group)
	local status, headers = ask(address, group, txn.f:src())
	txn:set_var("txn.wgate_allowed", status == 200)
	if headers and headers["wgate-peer"] then
		txn:set_var("txn.wgate_peer", headers["wgate-peer"])
		txn:set_var("txn.wgate_key", headers["wgate-peer-key"] or "")
		txn:set_var("txn.wgate_groups", headers["wgate-peer-groups"] or "")
	end
end, 2)
