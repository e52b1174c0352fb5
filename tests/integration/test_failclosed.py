"""test_failclosed.py - with mailwardend stopped, Postfix (milter_default_action
= tempfail) answers 4xx and delivers nothing; once it is back, mail flows
again.  Also checks the inet socket variant end to end."""

from conftest import make_message, marker, new_token


def test_milter_down_tempfails(lab):
    lab.lab("stop-milter")
    try:
        assert lab.milter_pid() is None
        token = new_token()
        r = lab.send(make_message(token, subject="while the milter is down"))
        assert r.temp, "want 4xx with the milter down, got %r" % (r,)
        lab.wait_drained()
        assert lab.delivered(token) == [], "mail delivered without the milter"
    finally:
        lab.lab("start-milter")
    token = new_token()
    r = lab.send(make_message(token, subject="milter is back"))
    assert r.ok, "mail refused after the milter came back: %r" % (r,)
    lab.wait_drained()
    assert len(lab.delivered(token)) == 1


def test_inet_socket(lab):
    """restart-milter with MILTER=inet switches Postfix and the daemon to TCP."""
    from conftest import free_port
    port = free_port()
    try:
        lab.lab("restart-milter", MILTER="inet", MILTER_INET_PORT=str(port))
        token = new_token()
        r = lab.send(make_message(token, subject="over inet"))
        assert r.ok, "clean mail over inet milter: %r" % (r,)
        t2 = new_token()
        r2 = lab.send(make_message(t2, body="x %s y\n" % marker().decode()))
        assert r2.perm, "marker over inet milter: %r" % (r2,)
        lab.wait_drained()
        got = lab.delivered(token)
        assert len(got) == 1 and got[0].get("X-Mailwarden-Verdict") is not None
        assert lab.delivered(t2) == []
    finally:
        lab.lab("restart-milter", MILTER="unix")
