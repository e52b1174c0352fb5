-- t-eicar.lua - EICAR as a base64 attachment: 550 5.7.1 at eom, no
-- verdict header.
dofile(lib)
local conn = open()
local hdrs, body = mime_attachment("invoice", "invoice.txt", eicar())
message(conn, "MT0002", nil, "bob@example.com", hdrs, body)
check(mt.eom(conn) == nil, "eom failed")
assert_rejected(conn, "eicar attachment", "Mailwarden.Test.EICAR")
mt.disconnect(conn)
