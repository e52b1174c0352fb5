-- t-negotiate.lua - option negotiation: the daemon asks to add headers
-- and to quarantine, and does not ask to see nothing of the message.
dofile(lib)
local conn = mt.connect(socket, 50, 0.1)
check(conn ~= nil, "mt.connect failed")
check(mt.negotiate(conn, nil, nil, nil) == nil, "negotiate failed")
check(mt.test_action(conn, SMFIF_ADDHDRS), "SMFIF_ADDHDRS not requested")
check(mt.test_action(conn, SMFIF_QUARANTINE), "SMFIF_QUARANTINE not requested")
check(not mt.test_option(conn, SMFIP_NOBODY), "daemon skips the body (SMFIP_NOBODY)")
check(not mt.test_option(conn, SMFIP_NOHDRS), "daemon skips headers (SMFIP_NOHDRS)")
mt.disconnect(conn)
