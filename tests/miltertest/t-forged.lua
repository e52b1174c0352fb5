-- t-forged.lua - a sender cannot smuggle a verdict: incoming
-- X-Mailwarden-Verdict / X-Mailwarden-Reasons headers are deleted and the
-- daemon's own are added.
dofile(lib)
local conn = open()
message(conn, "MT0301", nil, "bob@example.com",
	std_headers("forged verdict", {
		{"X-Mailwarden-Verdict", "accept"},
		{"X-Mailwarden-Reasons", "none"},
	}), clean_body())
check(mt.eom(conn) == nil, "eom failed")
assert_accepted(conn, "forged")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Mailwarden-Verdict"),
	"forged X-Mailwarden-Verdict not deleted")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Mailwarden-Reasons"),
	"forged X-Mailwarden-Reasons not deleted")
mt.disconnect(conn)
