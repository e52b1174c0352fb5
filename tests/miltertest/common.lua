-- common.lua - helpers for the t-*.lua miltertest scripts (loaded with
-- dofile(lib); tests/miltertest/run.sh passes -D socket=... -D lib=...).
-- Builds test payloads at run time (EICAR, the test marker, base64) so no
-- file in the repository holds a detectable string.

-- check - fail the script with a message (miltertest does not print the
-- text of a Lua error, so echo it first)
function check(cond, msg)
	if not cond then
		mt.echo("check failed: " .. msg)
		error(msg, 2)
	end
end

-- expect - run a milter step and require a given reply
function expect(conn, what, err, want)
	check(err == nil, what .. " failed: " .. tostring(err))
	local got = mt.getreply(conn)
	check(got == want, string.format("%s: reply %s, want %s", what,
		replyname(got), replyname(want)))
end

local names = {}
for _, n in ipairs({"SMFIR_ACCEPT", "SMFIR_CONTINUE", "SMFIR_DISCARD",
	"SMFIR_REJECT", "SMFIR_TEMPFAIL", "SMFIR_REPLYCODE", "SMFIR_QUARANTINE",
	"SMFIR_ADDHEADER", "SMFIR_INSHEADER", "SMFIR_CHGHEADER"}) do
	if _G[n] ~= nil then names[_G[n]] = n end
end

function replyname(r)
	if r == nil then return "nil" end
	return names[r] or string.format("%q", tostring(r))
end

function eicar()
	return "X5O!P%@AP[4\\PZX54(P^)7CC)7}$" .. "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
end

function marker()
	return "MAILWARDEN-TEST-" .. "MARKER-7f3a9c1e"
end

local b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

-- base64 - RFC 2045 base64 with 76-column lines, CRLF line ends
function base64(s)
	local out, line = {}, {}
	for i = 1, #s, 3 do
		local a, b, c = s:byte(i, i + 2)
		local n = a * 65536 + (b or 0) * 256 + (c or 0)
		local q = {}
		for k = 3, 0, -1 do
			local v = math.floor(n / 64 ^ k) % 64
			q[#q + 1] = b64:sub(v + 1, v + 1)
		end
		if c == nil then q[4] = "=" end
		if b == nil then q[3] = "=" end
		line[#line + 1] = table.concat(q)
		if #line == 19 then
			out[#out + 1] = table.concat(line) .. "\r\n"
			line = {}
		end
	end
	if #line > 0 then out[#out + 1] = table.concat(line) .. "\r\n" end
	return table.concat(out)
end

-- open - connect to the daemon and send connection information
function open()
	local conn = mt.connect(socket, 50, 0.1)
	check(conn ~= nil, "mt.connect(" .. tostring(socket) .. ") failed")
	mt.set_timeout(60)
	mt.macro(conn, SMFIC_CONNECT, "j", "mt.test.example",
		"{daemon_name}", "mt.test.example", "{client_addr}", "127.0.0.1",
		"{client_name}", "client.test.example")
	expect(conn, "conninfo", mt.conninfo(conn, "client.test.example", "127.0.0.1"),
		SMFIR_CONTINUE)
	expect(conn, "helo", mt.helo(conn, "client.test.example"), SMFIR_CONTINUE)
	return conn
end

-- message - envelope, headers, eoh and body of one message; the caller
-- calls mt.eom and checks the outcome.  hdrs: list of {name, value}.
-- from nil: a sender unique to the message (qid@sender.example), because
-- the daemon remembers senders: one that sent malware is auto-blocked
-- (sender.blocked at RCPT) for every later script.
function message(conn, qid, from, rcpt, hdrs, body)
	from = from or (qid:lower() .. "@sender.example")
	mt.macro(conn, SMFIC_MAIL, "i", qid, "{mail_addr}", from,
		"{auth_authen}", "")
	expect(conn, "mailfrom", mt.mailfrom(conn, "<" .. from .. ">"), SMFIR_CONTINUE)
	mt.macro(conn, SMFIC_RCPT, "i", qid, "{rcpt_addr}", rcpt)
	expect(conn, "rcptto", mt.rcptto(conn, "<" .. rcpt .. ">"), SMFIR_CONTINUE)
	for _, h in ipairs(hdrs) do
		expect(conn, "header " .. h[1], mt.header(conn, h[1], h[2]), SMFIR_CONTINUE)
	end
	expect(conn, "eoh", mt.eoh(conn), SMFIR_CONTINUE)
	-- body in chunks, as an MTA sends it
	local pos = 1
	while pos <= #body do
		local chunk = body:sub(pos, pos + 4095)
		expect(conn, "body", mt.bodystring(conn, chunk), SMFIR_CONTINUE)
		pos = pos + 4096
	end
end

function std_headers(subject, extra)
	local h = {
		{"From", "Alice <alice@sender.example>"},
		{"To", "bob@example.com"},
		{"Subject", subject},
		{"Date", "Mon, 02 Mar 2026 10:00:00 +0900"},
		{"Message-ID", "<" .. subject:gsub("%W", "") .. "@mt.test.example>"},
	}
	for _, x in ipairs(extra or {}) do h[#h + 1] = x end
	return h
end

-- mime_attachment - headers and body of a multipart mail with one base64
-- attachment
function mime_attachment(subject, filename, data)
	local hdrs = std_headers(subject, {
		{"MIME-Version", "1.0"},
		{"Content-Type", "multipart/mixed; boundary=\"mt-boundary-1\""},
	})
	local body = "This is a multi-part message in MIME format.\r\n" ..
		"--mt-boundary-1\r\n" ..
		"Content-Type: text/plain; charset=us-ascii\r\n\r\n" ..
		"Please find the file attached.\r\n" ..
		"--mt-boundary-1\r\n" ..
		"Content-Type: application/octet-stream; name=\"" .. filename .. "\"\r\n" ..
		"Content-Transfer-Encoding: base64\r\n" ..
		"Content-Disposition: attachment; filename=\"" .. filename .. "\"\r\n\r\n" ..
		base64(data) ..
		"--mt-boundary-1--\r\n"
	return hdrs, body
end

function clean_body()
	return "Hello Bob,\r\n\r\nthe meeting moved to Thursday.\r\n\r\nAlice\r\n"
end

-- assert_accepted - eom result of a clean message: accept/continue with
-- the verdict headers added or inserted
function assert_accepted(conn, what)
	local r = mt.getreply(conn)
	check(r == SMFIR_ACCEPT or r == SMFIR_CONTINUE,
		what .. ": eom reply " .. replyname(r) .. ", want accept/continue")
	for _, name in ipairs({"X-Mailwarden-Verdict", "X-Mailwarden-Reasons"}) do
		check(mt.eom_check(conn, MT_HDRINSERT, name) or mt.eom_check(conn, MT_HDRADD, name),
			what .. ": header " .. name .. " not added")
	end
	local v = mt.getheader(conn, "X-Mailwarden-Verdict", 0)
	check(v ~= nil and v:find("accept", 1, true) ~= nil,
		what .. ": X-Mailwarden-Verdict is " .. tostring(v) .. ", want accept")
	local reasons = mt.getheader(conn, "X-Mailwarden-Reasons", 0)
	check(reasons ~= nil and reasons:find("none", 1, true) ~= nil,
		what .. ": X-Mailwarden-Reasons is " .. tostring(reasons) .. ", want none")
end

-- assert_rejected - eom result of an infected message: 550 5.7.1 with the
-- reason code and the signature name (the text smfi_setreply got), and no
-- verdict header.  miltertest can only compare the whole reply line, so
-- the message must have av.infected as its only reject reason (no .exe or
-- .com names: attach.executable would be named instead).
function assert_rejected(conn, what, signame)
	local r = mt.getreply(conn)
	check(r == SMFIR_REPLYCODE,
		what .. ": eom reply " .. replyname(r) .. ", want SMFIR_REPLYCODE (550)")
	local ok = false
	for _, sig in ipairs({signame, signame .. ".UNOFFICIAL"}) do
		local text = "Message refused by Mailwarden: av.infected (" .. sig .. ")"
		if mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1", text) then
			ok = true
		end
	end
	check(ok, what .. ": reply is not '550 5.7.1 Message refused by Mailwarden: " ..
		"av.infected (" .. signame .. "[.UNOFFICIAL])'")
	check(not mt.eom_check(conn, MT_HDRINSERT, "X-Mailwarden-Verdict") and
		not mt.eom_check(conn, MT_HDRADD, "X-Mailwarden-Verdict"),
		what .. ": verdict header added to a rejected message")
end
