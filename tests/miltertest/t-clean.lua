-- t-clean.lua - a clean plain-text mail: accept/continue at eom, with
-- X-Mailwarden-Verdict: accept and X-Mailwarden-Reasons: none added.
dofile(lib)
local conn = open()
message(conn, "MT0001", nil, "bob@example.com",
	std_headers("clean plain text"), clean_body())
check(mt.eom(conn) == nil, "eom failed")
assert_accepted(conn, "clean")
mt.disconnect(conn)
