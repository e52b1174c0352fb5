-- t-multi.lua - several messages on one connection: clean, EICAR in the
-- body, marker attachment, clean again.  Per-message state must not leak.
dofile(lib)
local conn = open()

message(conn, "MT0101", nil, "bob@example.com",
	std_headers("first clean"), clean_body())
check(mt.eom(conn) == nil, "eom 1 failed")
assert_accepted(conn, "first clean")

message(conn, "MT0102", nil, "bob@example.com",
	std_headers("eicar inline"), "Test file follows:\r\n" .. eicar() .. "\r\n")
check(mt.eom(conn) == nil, "eom 2 failed")
assert_rejected(conn, "eicar in body", "Mailwarden.Test.EICAR")

local hdrs, body = mime_attachment("marker", "notes.txt", "notes: " .. marker() .. "\n")
message(conn, "MT0103", nil, "bob@example.com", hdrs, body)
check(mt.eom(conn) == nil, "eom 3 failed")
assert_rejected(conn, "marker attachment", "Mailwarden.Test.Marker")

message(conn, "MT0104", nil, "carol@example.com",
	std_headers("second clean"), clean_body())
check(mt.eom(conn) == nil, "eom 4 failed")
assert_accepted(conn, "second clean")
mt.disconnect(conn)
