-- t-abort.lua - a message aborted in mid-body (client RSET), then a clean
-- one on the same connection; then an abrupt disconnect mid-message and a
-- new connection still works.
dofile(lib)
local conn = open()
message(conn, "MT0201", nil, "bob@example.com",
	std_headers("aborted"), "partial body " .. marker() .. "\r\n")
check(mt.abort(conn) == nil, "abort failed")

message(conn, "MT0202", nil, "bob@example.com",
	std_headers("after abort"), clean_body())
check(mt.eom(conn) == nil, "eom failed")
assert_accepted(conn, "clean after abort")

message(conn, "MT0203", nil, "bob@example.com",
	std_headers("dropped"), string.rep("x", 100000) .. "\r\n")
mt.disconnect(conn, false)

local conn2 = open()
message(conn2, "MT0204", nil, "bob@example.com",
	std_headers("new connection"), clean_body())
check(mt.eom(conn2) == nil, "eom 2 failed")
assert_accepted(conn2, "clean on a new connection")
mt.disconnect(conn2)
