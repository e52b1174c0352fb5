"""test_auth.py - sender authenticity (src/auth): SPF, DKIM, DMARC against
a real DNS server on loopback (nsd with test zones, dnslab.py), end to
end through the lab MTA (Postfix and Sendmail: every `lab` test runs
under both) and offline through `mailwarden scan --client --helo`.

The lab connects from other loopback addresses (127.0.0.0/8 is all
loopback) so SPF sees different clients: 127.0.0.2 is sender.example's
server, 127.0.0.3 partner.example's, 127.0.0.4 the mailing list's,
127.0.0.5 ours (example.com), 127.0.0.9 an outsider.  DKIM mail is signed
here with keys made at the start of the module (dnslab.DnsLab.sign).

The lab protects example.com; the partner list (a lists directory of
this module) names partner.example and partnerdown.example."""

import json
import os
import shutil
import smtplib
import subprocess
import tempfile
import time

import pytest

from conftest import MAILWARDEN, REPO, SMTP_TIMEOUT, Reply, new_token, smtp_lines
from dnslab import DnsLab, message, with_attachment

AUTHSERV = "mx.lab.test"
# Long enough that an answer of nsd through the Python forwarder is never
# late on a loaded machine (700 ms was, once, with QEMU beside the suite);
# the names the forwarder drops cost this much per question.
LOOKUP_MS = 2500


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def dns():
    """nsd with the test zones, and a forwarder in front that never
    answers names under noanswer.example."""
    d = DnsLab().start()
    d.start_proxy(delay_ms=0, drop=("noanswer.example",))
    yield d
    d.stop()


@pytest.fixture(scope="module")
def lists_dir():
    """The shipped lists plus a partner list."""
    d = tempfile.mkdtemp(prefix="auth-lists-", dir="/tmp")
    src = os.path.join(REPO, "data", "lists")
    for f in os.listdir(src):
        shutil.copy(os.path.join(src, f), d)
    with open(os.path.join(d, "partner.txt"), "w") as f:
        f.write("partner.example\npartnerdown.example\n")
    os.chmod(d, 0o755)
    for f in os.listdir(d):
        os.chmod(os.path.join(d, f), 0o644)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def auth_args(dns, *extra):
    return ["-o", "auth.enable=yes", "-o", "auth.resolver=127.0.0.1@%d" % dns.proxy_port,
            "-o", "auth.authserv_id=" + AUTHSERV, "-o", "auth.lookup_timeout=%d" % LOOKUP_MS,
            "-o", "auth.message_budget=%d" % (LOOKUP_MS * 5)] + list(extra)


@pytest.fixture(scope="module")
def auth_lab(lab, dns, lists_dir):
    """The lab's mailwardend with sender authentication on (restored after the module)."""
    lab.lab("restart-milter", MW_ARGS=" ".join(auth_args(dns)), LISTS_DIR=lists_dir)
    yield lab
    lab.lab("restart-milter", MW_ARGS="", LISTS_DIR="", check=False)


def restart(lab, dns, lists_dir, *extra):
    lab.lab("restart-milter", MW_ARGS=" ".join(auth_args(dns, *extra)), LISTS_DIR=lists_dir)


def send_from(lab, raw, client, helo, sender, rcpts=("bob@example.com",)):
    """One transaction from a given loopback source address and HELO name."""
    try:
        with smtplib.SMTP("127.0.0.1", lab.port, timeout=SMTP_TIMEOUT,
                          source_address=(client, 0)) as s:
            code, text = s.ehlo(helo)
            if code >= 300:
                return Reply(code, text.decode(errors="replace"), "EHLO")
            code, text = s.mail(sender)
            if code >= 300:
                return Reply(code, text.decode(errors="replace"), "MAIL")
            for r in rcpts:
                code, text = s.rcpt(r)
                if code >= 300:
                    return Reply(code, text.decode(errors="replace"), "RCPT")
            code, text = s.data(smtp_lines(raw))
            return Reply(code, text.decode(errors="replace"), "DATA")
    except smtplib.SMTPServerDisconnected as e:
        return Reply(421, "disconnected: %s" % e, "session")
    except smtplib.SMTPResponseException as e:
        return Reply(e.smtp_code, e.smtp_error.decode(errors="replace"), "session")


def delivered_one(lab, token, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = lab.delivered(token)
        if got:
            assert len(got) == 1, "delivered %d times" % len(got)
            return got[0]
        time.sleep(0.2)
    raise AssertionError("message %s not delivered:\n%s" % (token, lab.log_tail()))


def our_ar(msg):
    """Our Authentication-Results values (the field may be folded)."""
    out = []
    for v in msg.get_all("Authentication-Results") or []:
        v = " ".join(str(v).split())
        if v.split(";", 1)[0].strip().lower() == AUTHSERV:
            out.append(v)
    return out


def in_quarantine(lab, sender):
    deadline = time.time() + 20
    while time.time() < deadline:
        q = [e for e in lab.quarantine() if e.get("sender") == sender]
        if q:
            return q
        time.sleep(0.3)
    return []


# ---------------------------------------------------------------- through the MTA

def test_pass_adds_authentication_results(auth_lab, dns):
    """SPF, DKIM (two signatures: RSA and Ed25519) and DMARC pass; our
    Authentication-Results is on top with every result."""
    token = new_token()
    raw = message("Alice <alice@sender.example>", token=token)
    raw = dns.sign(dns.sign(raw, "sender.example", "sel1"), "sender.example", "ed1")
    r = send_from(auth_lab, raw, "127.0.0.2", "mail.sender.example", "alice@sender.example")
    assert r.ok, r
    m = delivered_one(auth_lab, token)
    ar = our_ar(m)
    assert len(ar) == 1, m.get_all("Authentication-Results")
    assert "spf=pass smtp.mailfrom=sender.example" in ar[0], ar
    assert "spf=pass smtp.helo=mail.sender.example" in ar[0], ar
    assert "dkim=pass header.d=sender.example header.s=sel1" in ar[0], ar
    assert "dkim=pass header.d=sender.example header.s=ed1" in ar[0], ar
    assert "dmarc=pass" in ar[0] and "header.from=sender.example" in ar[0], ar
    assert m["X-Mailwarden-Verdict"] == "accept"
    # RFC 8601: on top of the fields it speaks about (above the signatures)
    names = [k.lower() for k in m.keys()]
    assert names.index("authentication-results") < names.index("dkim-signature"), names


def test_dmarc_fail_reject_policy_refused(auth_lab, dns):
    """sender.example publishes p=reject; an outsider without its signature is refused."""
    token = new_token()
    raw = message("Alice <alice@sender.example>", token=token)
    r = send_from(auth_lab, raw, "127.0.0.9", "mx.outsider.test", "alice@sender.example")
    assert r.perm and r.stage == "DATA", r
    assert "auth.dmarc_reject" in r.text, r


def test_softfail_and_none_delivered_with_results(auth_lab, dns):
    token = new_token()
    r = send_from(auth_lab, message("u <u@softfail.example>", token=token), "127.0.0.9", "h.test",
                  "u@softfail.example")
    assert r.ok, r
    ar = our_ar(delivered_one(auth_lab, token))
    assert "spf=softfail smtp.mailfrom=softfail.example" in ar[0] and "dmarc=none" in ar[0], ar
    token = new_token()
    r = send_from(auth_lab, message("n <n@none.example>", token=token), "127.0.0.9", "h.test", "n@none.example")
    assert r.ok, r
    ar = our_ar(delivered_one(auth_lab, token))
    assert "spf=none smtp.mailfrom=none.example" in ar[0] and "dkim=none" in ar[0] and "dmarc=none" in ar[0], ar


def test_permerror_recorded(auth_lab, dns):
    """A broken SPF record and one with an over-long macro term (refused
    before libspf2 compiles it) are permerror; the mail is delivered."""
    for dom in ("permerror.example", "macro.example"):
        token = new_token()
        r = send_from(auth_lab, message("p <p@%s>" % dom, token=token), "127.0.0.9", "h.test", "p@" + dom)
        assert r.ok, r
        ar = our_ar(delivered_one(auth_lab, token))
        assert "spf=permerror smtp.mailfrom=%s" % dom in ar[0], ar


def test_temperror_on_partner_defers(auth_lab, dns):
    """The partner's DNS fails (nsd refuses the zone: SERVFAIL) or does not
    answer (dropped): authentication cannot be decided for an identity a
    rule depends on, so 451 and the sender retries."""
    for dom in ("partnerdown.example",):
        token = new_token()
        r = send_from(auth_lab, message("Partner <p@%s>" % dom, token=token), "127.0.0.9", "h.test", "p@" + dom)
        assert r.temp, r
        assert "auth.temperror" in r.text, r
    # a stranger whose DNS does not answer is not ours to defer: temperror is recorded
    token = new_token()
    r = send_from(auth_lab, message("x <x@noanswer.example>", token=token), "127.0.0.9", "h.test",
                  "x@noanswer.example")
    assert r.ok, r
    ar = our_ar(delivered_one(auth_lab, token))
    assert "spf=temperror smtp.mailfrom=noanswer.example" in ar[0] and "dmarc=temperror" in ar[0], ar


def test_signature_broken_by_relay(auth_lab, dns):
    """partner.example signs; a relay (127.0.0.4, not in its SPF) adds a
    footer: the body hash fails, DMARC fails, p=quarantine is honoured."""
    token = new_token()
    sender = "p-%s@partner.example" % token
    raw = dns.sign(message("Partner <%s>" % sender, token=token), "partner.example")
    raw = raw + b"-- \r\nScanned by relay.example\r\n"
    r = send_from(auth_lab, raw, "127.0.0.4", "relay.list.example", sender)
    assert r.ok, r  # quarantined: 250, kept by Mailwarden
    q = in_quarantine(auth_lab, sender)
    assert q, "not quarantined"
    reasons = json.dumps(q[0])
    assert "auth.dmarc_quarantine" in reasons and "auth.partner_spoof" in reasons, q[0]
    assert auth_lab.delivered(token) == []


def test_mailing_list_resigns(auth_lab, dns, lists_dir):
    """A list that passes the message unchanged keeps the partner's
    signature valid (DMARC pass).  A list that tags the subject and
    re-signs breaks it: DMARC fails (p=quarantine) unless the list is a
    trusted forwarder."""
    token = new_token()
    sender = "p-%s@partner.example" % token
    raw = dns.sign(message("Partner <%s>" % sender, token=token, subject="Minutes"), "partner.example")
    raw = dns.sign(b"List-Id: <staff.list.example>\r\n" + raw, "list.example",
                   headers=(b"from", b"subject", b"list-id"))
    r = send_from(auth_lab, raw, "127.0.0.4", "mail.list.example", "bounces@list.example")
    assert r.ok, r
    ar = our_ar(delivered_one(auth_lab, token))
    assert "dkim=pass header.d=partner.example" in ar[0] and "dkim=pass header.d=list.example" in ar[0], ar
    assert "dmarc=pass" in ar[0], ar

    def tagged(tok, snd):
        raw = dns.sign(message("Partner <%s>" % snd, token=tok, subject="Minutes"), "partner.example")
        raw = raw.replace(b"Subject: Minutes", b"Subject: [staff] Minutes")
        return dns.sign(b"List-Id: <staff.list.example>\r\n" + raw, "list.example",
                        headers=(b"from", b"subject", b"list-id"))

    token = new_token()
    sender = "p-%s@partner.example" % token
    r = send_from(auth_lab, tagged(token, sender), "127.0.0.4", "mail.list.example", "bounces@list.example")
    assert r.ok, r
    q = in_quarantine(auth_lab, "bounces@list.example")
    assert any(token in json.dumps(e) or "Minutes" in json.dumps(e) for e in q), q
    assert "auth.dmarc_quarantine" in json.dumps(q), q

    restart(auth_lab, dns, lists_dir, "-o", "auth.trusted_forwarders=list.example")
    try:
        token = new_token()
        sender = "p-%s@partner.example" % token
        r = send_from(auth_lab, tagged(token, sender), "127.0.0.4", "mail.list.example", "bounces@list.example")
        assert r.ok, r
        ar = our_ar(delivered_one(auth_lab, token))
        assert "dkim=fail" in ar[0] and "dmarc=fail" in ar[0], ar
        assert "not applied: trusted forwarder list.example" in ar[0], ar
    finally:
        restart(auth_lab, dns, lists_dir)


def test_protected_domain_spoof_refused(auth_lab, dns, lists_dir):
    """Mail from outside claiming our own domain without passing is refused;
    from our own server (auth.trusted_clients) it is not checked."""
    token = new_token()
    raw = message("Director <director@example.com>", token=token)
    r = send_from(auth_lab, raw, "127.0.0.9", "mx.outsider.test", "director@example.com")
    assert r.perm and "auth.protected_spoof" in r.text, r
    # envelope from outside, header From ours: still refused
    token = new_token()
    raw = message("Director <director@example.com>", token=token)
    r = send_from(auth_lab, raw, "127.0.0.9", "mx.outsider.test", "bounce@none.example")
    assert r.perm and "auth.protected_spoof" in r.text, r
    restart(auth_lab, dns, lists_dir, "-o", "auth.trusted_clients=127.0.0.9/32")
    try:
        token = new_token()
        r = send_from(auth_lab, message("Director <director@example.com>", token=token), "127.0.0.9",
                      "mx.outsider.test", "director@example.com")
        assert r.ok, r
        m = delivered_one(auth_lab, token)
        assert our_ar(m) == [], "a trusted client is not checked"
    finally:
        restart(auth_lab, dns, lists_dir)


def test_lookalike_and_display_name(auth_lab, dns):
    """examp1e.com passes its own SPF but imitates example.com; a display
    name claiming our organisation on someone else's domain."""
    sender = "info-%s@examp1e.com" % new_token()
    r = send_from(auth_lab, message("Support <%s>" % sender, token=new_token()), "127.0.0.9",
                  "mx.examp1e.com", sender)
    assert r.ok, r
    q = in_quarantine(auth_lab, sender)
    assert q and "auth.lookalike_sender" in json.dumps(q[0]), q
    sender = "desk-%s@none.example" % new_token()
    r = send_from(auth_lab, message("Example Corporation <%s>" % sender, token=new_token()), "127.0.0.9",
                  "h.test", sender)
    assert r.ok, r
    q = in_quarantine(auth_lab, sender)
    assert q and "auth.display_name_claim" in json.dumps(q[0]), q


def test_forged_authentication_results_removed(auth_lab, dns):
    """A received Authentication-Results with our authserv-id is removed
    (any case, in a comment's shadow too); others' are kept."""
    token = new_token()
    forged = ["Authentication-Results: %s; dmarc=pass header.from=partner.example" % AUTHSERV,
              "Authentication-Results: (sneaky) MX.LAB.TEST; dkim=pass header.d=partner.example",
              "Authentication-Results: mx.other.example; spf=pass smtp.mailfrom=none.example"]
    raw = message("n <n@none.example>", token=token, extra_headers=forged)
    r = send_from(auth_lab, raw, "127.0.0.9", "h.test", "n@none.example")
    assert r.ok, r
    m = delivered_one(auth_lab, token)
    all_ar = [" ".join(str(v).split()) for v in m.get_all("Authentication-Results")]
    assert len(our_ar(m)) == 1 and "dmarc=none" in our_ar(m)[0], all_ar
    assert not any("partner.example" in v for v in all_ar), all_ar
    assert any(v.startswith("mx.other.example;") for v in all_ar), all_ar


def test_first_contact_skipped_only_when_authenticated(auth_lab, dns):
    """A partner's authenticated first mail with an attachment is not held;
    a sender whose domain publishes nothing is held each time (its history
    cannot be trusted without authentication)."""
    token = new_token()
    sender = "new-%s@partner.example" % token
    raw = dns.sign(with_attachment("Partner <%s>" % sender, token), "partner.example")
    r = send_from(auth_lab, raw, "127.0.0.3", "mail.partner.example", sender)
    assert r.ok, r
    delivered_one(auth_lab, token)
    sender = "plain-%s@none.example" % new_token()
    for _ in range(2):
        token = new_token()
        r = send_from(auth_lab, with_attachment("Plain <%s>" % sender, token), "127.0.0.9", "h.test", sender)
        assert r.ok, r
    deadline = time.time() + 20
    while time.time() < deadline and len([e for e in auth_lab.quarantine() if e.get("sender") == sender]) < 2:
        time.sleep(0.3)
    held = [e for e in auth_lab.quarantine() if e.get("sender") == sender]
    assert len(held) == 2 and all("hold.first_contact" in json.dumps(e) for e in held), held


def test_tracking_claimed_and_failed(auth_lab, dns):
    """`track --claimed DOMAIN --auth fail`: every message that claimed it and failed."""
    token = new_token()
    sender = "t-%s@partner.example" % token
    r = send_from(auth_lab, message("Partner <%s>" % sender, token=token), "127.0.0.9", "h.test", sender)
    assert r.ok, r
    state = os.path.join(auth_lab.run_dir, "mailwarden", "state")
    cmd = [MAILWARDEN, "track", "--claimed", "partner.example", "--auth", "fail", "--json",
           "-o", "paths.state=" + state, "-o", "paths.lists=" + os.path.join(REPO, "data", "lists")]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "mailwarden", "--"] + cmd
    deadline = time.time() + 20
    rows = []
    while time.time() < deadline:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        rows = [json.loads(l) for l in p.stdout.decode().splitlines() if l.startswith("{")]
        if any(x["sender"] == sender for x in rows):
            break
        time.sleep(0.3)
    mine = [x for x in rows if x["sender"] == sender]
    assert mine, rows
    assert mine[0]["auth"] == "fail" and mine[0]["spf"] == "fail" and mine[0]["dmarc"] == "fail", mine[0]
    assert mine[0]["from_domain"] == "partner.example"
    assert all(x["auth"] == "fail" for x in rows)


# ---------------------------------------------------------------- offline: mailwarden scan

def scan(dns, lists_dir, raw, client, helo, sender, *extra):
    d = tempfile.mkdtemp(prefix="auth-scan-", dir="/tmp")
    try:
        path = os.path.join(d, "m.eml")
        with open(path, "wb") as f:
            f.write(raw)
        cmd = [MAILWARDEN, "scan", "--sigs", os.path.join(REPO, "sigs"), "-o", "paths.lists=" + lists_dir,
               "-o", "domains.protected=example.com", "-o", "domains.org_names=Example Corporation",
               *auth_args(dns), "--client", client, "--helo", helo, "-f", sender, "-r", "bob@example.com",
               *extra, path]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        v = json.loads(p.stdout)
        return p.returncode, v
    finally:
        shutil.rmtree(d, ignore_errors=True)


def codes(v):
    return sorted({r["code"] for r in v["reasons"]})


CASES = [
    # name, From, envelope, client, helo, signer(s), edit, expected (spf, helo, dkim results, dmarc), codes
    ("pass", "alice@sender.example", "alice@sender.example", "127.0.0.2", "mail.sender.example",
     [("sender.example", "sel1")], None, ("pass", "pass", ["pass"], "pass"), []),
    ("fail_reject", "alice@sender.example", "alice@sender.example", "127.0.0.9", "h.test",
     [], None, ("fail", "none", [], "fail"), ["auth.dmarc_reject"]),
    ("softfail", "u@softfail.example", "u@softfail.example", "127.0.0.9", "h.test",
     [], None, ("softfail", "none", [], "none"), []),
    ("none", "n@none.example", "n@none.example", "127.0.0.9", "h.test", [], None, ("none", "none", [], "none"), []),
    ("permerror", "p@permerror.example", "p@permerror.example", "127.0.0.9", "h.test",
     [], None, ("permerror", "none", [], "none"), []),
    ("temperror_stranger", "x@noanswer.example", "x@noanswer.example", "127.0.0.9", "h.test",
     [], None, ("temperror", "none", [], "temperror"), []),
    ("temperror_partner", "p@partnerdown.example", "p@partnerdown.example", "127.0.0.9", "h.test",
     [], None, ("temperror", "none", [], "temperror"), ["auth.temperror"]),
    ("multiple_signatures", "alice@sender.example", "alice@sender.example", "127.0.0.9", "h.test",
     [("sender.example", "sel1"), ("sender.example", "ed1"), ("list.example", "sel1")], None,
     ("fail", "none", ["pass", "pass", "pass"], "pass"), []),
    ("broken_by_relay", "p@partner.example", "p@partner.example", "127.0.0.4", "h.test",
     [("partner.example", "sel1")], "footer", ("fail", "none", ["fail"], "fail"),
     ["auth.dmarc_quarantine", "auth.partner_spoof"]),
    ("subdomain_policy", "ceo@sub.org.example", "ceo@sub.org.example", "127.0.0.9", "h.test",
     [], None, ("fail", "none", [], "fail"), ["auth.dmarc_reject"]),
    ("protected_spoof", "director@example.com", "director@example.com", "127.0.0.9", "h.test",
     [], None, ("fail", "none", [], "fail"), ["auth.dmarc_reject", "auth.protected_spoof"]),
    ("protected_own_server", "director@example.com", "director@example.com", "127.0.0.5", "h.test",
     [("example.com", "sel1")], None, ("pass", "none", ["pass"], "pass"), []),
    ("lookalike", "info@examp1e.com", "info@examp1e.com", "127.0.0.9", "mx.examp1e.com",
     [], None, ("pass", "none", [], "none"), ["auth.lookalike_sender"]),
    ("unknown_key", "alice@sender.example", "alice@sender.example", "127.0.0.2", "h.test",
     [("sender.example", "sel1")], "selector", ("pass", "none", ["permerror"], "pass"), []),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_scan_matrix(dns, lists_dir, case):
    name, frm, env, client, helo, signers, edit, want, want_codes = case
    raw = message("Sender <%s>" % frm, token=new_token())
    for dom, sel in signers:
        raw = dns.sign(raw, dom, sel)
    if edit == "footer":
        raw += b"-- \r\nrelayed\r\n"
    elif edit == "selector":
        raw = raw.replace(b"s=sel1;", b"s=nokey;", 1)
    rc, v = scan(dns, lists_dir, raw, client, helo, env)
    a = v["auth"]
    got = (a["spf"], a["spf_helo"], [s["result"] for s in a["dkim"]], a["dmarc"])
    assert got == want, json.dumps(a, indent=1)
    assert codes(v) == sorted(want_codes), v["reasons"]
    assert a["header"].startswith(AUTHSERV + ";")


def test_scan_temperror_any_and_resolver_down(dns, lists_dir):
    """auth.temperror_any defers any DNS failure; a resolver that does not
    answer at all defers everything (our own domain does not resolve)."""
    raw = message("x <x@noanswer.example>", token=new_token())
    rc, v = scan(dns, lists_dir, raw, "127.0.0.9", "h.test", "x@noanswer.example", "-o", "auth.temperror_any=yes")
    assert v["action"] == "tempfail" and codes(v) == ["auth.temperror"], v["reasons"]
    assert rc == 3
    raw = message("n <n@none.example>", token=new_token())
    rc, v = scan(dns, lists_dir, raw, "127.0.0.9", "h.none.example", "n@none.example",
                 "-o", "auth.resolver=127.0.0.1@22598", "-o", "auth.lookup_timeout=300")
    assert v["auth"]["dns"]["resolver_down"] is True, v["auth"]
    assert v["action"] == "tempfail" and codes(v) == ["auth.temperror"], v["reasons"]


def test_scan_budget_bounds_dns(dns, lists_dir):
    """auth.max_lookups cuts the questions of one message: the rest are temperror."""
    raw = message("Alice <alice@sender.example>", token=new_token())
    raw = dns.sign(dns.sign(raw, "sender.example", "sel1"), "sender.example", "ed1")
    rc, v = scan(dns, lists_dir, raw, "127.0.0.2", "mail.sender.example", "alice@sender.example",
                 "-o", "auth.max_lookups=5")
    a = v["auth"]
    assert a["dns"]["budget_spent"] is True and a["dns"]["lookups"] <= 5, a["dns"]
    assert "temperror" in (a["dmarc"], a["spf"], a["spf_helo"]) or \
        any(s["result"] == "temperror" for s in a["dkim"]), a


def test_scan_without_client_is_spf_none(dns, lists_dir):
    raw = message("Alice <alice@sender.example>", token=new_token())
    raw = dns.sign(raw, "sender.example", "sel1")
    d = tempfile.mkdtemp(prefix="auth-scan-", dir="/tmp")
    try:
        path = os.path.join(d, "m.eml")
        with open(path, "wb") as f:
            f.write(raw)
        p = subprocess.run([MAILWARDEN, "scan", "--sigs", os.path.join(REPO, "sigs"),
                            "-o", "paths.lists=" + lists_dir, *auth_args(dns), "-f", "alice@sender.example",
                            path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        a = json.loads(p.stdout)["auth"]
    finally:
        shutil.rmtree(d, ignore_errors=True)
    assert a["spf"] == "none" and a["dkim"][0]["result"] == "pass" and a["dmarc"] == "pass", a
    assert "(no client address)" in a["header"]


class TcpOnlyDns:
    """TcpOnlyDns - a TCP listener on loopback that passes each connection
    to nsd's TCP port, and nothing on UDP: what QEMU's user network gives
    the appliance (tests/qemu) and what auth.resolver_tcp is for"""

    def __init__(self, target_port):
        import socket
        import threading
        self.target = target_port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _pipe(self, a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(2)
                except OSError:
                    pass

    def _serve(self):
        import socket
        import threading
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            self.connections += 1
            c.settimeout(None)
            up = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            up.settimeout(None)
            for a, b in ((c, up), (up, c)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def close(self):
        self.stop = True
        self.thread.join(5)
        self.sock.close()


def test_scan_resolver_over_tcp_only(dns, lists_dir):
    """auth.resolver_tcp: with a server reachable over TCP only, the checks
    pass over TCP; without the setting the same server is 'down'"""
    bridge = TcpOnlyDns(dns.port)
    try:
        raw = dns.sign(message("Alice <alice@sender.example>", token=new_token()), "sender.example", "sel1")
        over = ["-o", "auth.resolver=127.0.0.1@%d" % bridge.port, "-o", "auth.lookup_timeout=500"]
        rc, v = scan(dns, lists_dir, raw, "127.0.0.2", "mail.sender.example", "alice@sender.example",
                     *over, "-o", "auth.resolver_tcp=yes")
        a = v["auth"]
        assert (a["spf"], [s["result"] for s in a["dkim"]], a["dmarc"]) == ("pass", ["pass"], "pass"), a
        assert bridge.connections > 0
        rc, v = scan(dns, lists_dir, raw, "127.0.0.2", "mail.sender.example", "alice@sender.example", *over)
        assert v["auth"]["dns"]["resolver_down"] is True, v["auth"]
        assert v["action"] == "tempfail" and codes(v) == ["auth.temperror"], v["reasons"]
    finally:
        bridge.close()
