"""test_links.py - link inspection end to end, through the real Postfix lab.

The 2015 pattern: a free-mail sender writes to a public address with a
link to an online-storage service.  That mail must be quarantined (for
the daemon's quarantine, or the Postfix hold queue), after a 250 reply, and never reach the
sink.  A link to any sub-domain of a blocked registrable domain must be
refused with 5xx.

Each test uses its own sender address: a refused mail auto-blocks its
sender, and a first mail with link facts is held as first contact.
The plain-link test runs first, before any campaign fingerprint from this
module's template is flagged.

The daemon is restarted for this module with a protected domain
(example.com), a public address (info@example.com) and a copy of the
shipped lists in which link_block.txt names blocked.example; the module
restores the default daemon at the end.  The free-mail and storage
domains are read from the shipped lists, so no provider name is written
here.
"""

import json
import os
import shutil
import subprocess

import pytest

from conftest import MAILWARDEN, REPO, SAMPLES, new_token, run_scan, tag_raw

LISTS = os.path.join(REPO, "data", "lists")
PUBLIC = "info@example.com"
STAFF = "staff@example.com"
DAEMON_ARGS = "-o domains.protected=example.com -o domains.public=" + PUBLIC


def first_entry(name, want_dot=True):
    """The first plain domain entry of a shipped list."""
    with open(os.path.join(LISTS, name + ".txt"), encoding="utf-8") as f:
        for line in f:
            e = line.split("#", 1)[0].strip()
            if e and "/" not in e and (not want_dot or "." in e):
                return e
    pytest.skip("list %s has no entry" % name)


def lists_copy(where):
    d = os.path.join(where, "links-lists")
    if os.path.isdir(d):
        shutil.rmtree(d)
    shutil.copytree(LISTS, d)
    with open(os.path.join(d, "link_block.txt"), "a") as f:
        f.write("blocked.example\n")
    os.chmod(d, 0o755)
    for n in os.listdir(d):
        os.chmod(os.path.join(d, n), 0o644)
    return d


@pytest.fixture(scope="module")
def linklab(lab):
    lists = lists_copy(lab.run_dir)
    lab.lab("restart-milter", MW_ARGS=DAEMON_ARGS, LISTS_DIR=lists)
    try:
        yield lab
    finally:
        lab.lab("restart-milter", MW_ARGS="", LISTS_DIR="", check=False)


def quarantined(lab, sender):
    """Held in the Postfix hold queue, or kept in mailwardend's own quarantine
    (the daemon logs action=quarantine with a quarantine id, and Postfix
    discards its copy)."""
    if lab.held_from(sender):
        return True
    path = os.path.join(lab.run_dir, "log", "mailwardend.log")
    with open(path, errors="replace") as f:
        return any("from=<%s>" % sender in l and " action=quarantine " in l and "quarantine=" in l
                   for l in f)


def html_message(token, sender, rcpt, href, text="こちら"):
    """An HTML mail carrying one link, as web mail sends it."""
    html = '<html><body><p>資料は<a href="%s">%s</a>です。</p></body></html>\r\n' % (href, text)
    head = ("X-Test-Id: %s\r\nFrom: %s\r\nTo: %s\r\nSubject: test\r\n"
            "Message-ID: <%s@test.example>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            % (token, sender, rcpt, token))
    return head.encode("ascii") + html.encode("utf-8")


def test_plain_link_delivered(linklab):
    token = new_token()
    sender = "plain-%s@sender.example" % token[:8]
    raw = html_message(token, sender, PUBLIC, "https://www.sender.example/news/%s" % token, text="news")
    r = linklab.send(raw, sender=sender, rcpts=(PUBLIC,))
    assert r.ok, r
    linklab.wait_drained()
    assert len(linklab.delivered(token)) == 1, "an ordinary link was not delivered"


def test_freemail_storage_link_to_public_address_is_quarantined(linklab):
    free = first_entry("freemail")
    storage = first_entry("storage")
    token = new_token()
    sender = "taro.%s@%s" % (token[:6], free)
    raw = html_message(token, sender, PUBLIC, "https://dl.%s/download/%s" % (storage, token))
    r = linklab.send(raw, sender=sender, rcpts=(PUBLIC,))
    assert r.ok, "want 250 (quarantine keeps the mail), got %r" % (r,)
    linklab.wait_drained()
    assert not linklab.delivered(token), "a storage link from a free-mail sender reached the mailbox"
    assert quarantined(linklab, sender), "not quarantined:\n%s" % linklab.log_tail()


def test_external_storage_link_is_quarantined_even_from_a_company(linklab):
    storage = first_entry("storage")
    token = new_token()
    sender = "sales-%s@sender.example" % token[:8]
    raw = html_message(token, sender, PUBLIC, "https://%s/d/%s" % (storage, token))
    r = linklab.send(raw, sender=sender, rcpts=(PUBLIC,))
    assert r.ok, r
    linklab.wait_drained()
    assert not linklab.delivered(token)
    assert quarantined(linklab, sender), "storage link from outside was not quarantined:\n%s" % linklab.log_tail()


def test_blocked_domain_sub_domain_is_refused(linklab):
    token = new_token()
    sender = "news-%s@sender.example" % token[:8]
    raw = html_message(token, sender, PUBLIC, "http://c2.upd.Blocked.Example/setup.exe", text="update")
    r = linklab.send(raw, sender=sender, rcpts=(PUBLIC,))
    assert r.perm and r.code == 550, "want 550 for a sub-domain of a blocked domain, got %r" % (r,)
    linklab.wait_drained()
    assert not linklab.delivered(token)


def test_blocked_sample_refused(linklab):
    token = new_token()
    with open(os.path.join(SAMPLES, "links-blocked-subdomain.eml"), "rb") as f:
        raw = tag_raw(f.read(), token)
    r = linklab.send(raw, sender="upd-%s@sender.example" % token[:8], rcpts=(PUBLIC,))
    assert r.perm, r
    linklab.wait_drained()
    assert not linklab.delivered(token)


# ---- the same judgements through `mailwarden scan` and `mailwarden links` (no lab needed)

@pytest.mark.parametrize("sample,want", [
    ("links-storage-freemail.eml", {"link.storage"}),
    ("links-hostile-html.eml", {"link.lookalike", "link.text_mismatch", "link.script",
                                "link.ip_literal", "link.shortener"}),
    ("links-blocked-subdomain.eml", {"link.blocked_domain"}),
])
def test_scan_samples(tmp_path, sample, want):
    with open(os.path.join(SAMPLES, sample), "rb") as f:
        raw = f.read()
    lists = lists_copy(str(tmp_path))
    rc, v, out, err = run_scan(raw, tmp_path, extra=("-o", "paths.lists=" + lists,
                                                     "-o", "domains.protected=example.com"))
    assert v is not None, "no JSON: %s %s" % (out, err)
    codes = {r["code"] for r in v["reasons"]}
    assert want <= codes, "got %s, want at least %s" % (sorted(codes), sorted(want))


# ---- what a click really does (issue 16): redirectors, schemes, shares, word lookalikes

def html_raw(href, text="資料", sender="sales@sender.example"):
    token = new_token()
    return html_message(token, sender, PUBLIC, href, text=text)


SCAN_CASES = [
    # (name, href, codes that must be there, action at least)
    ("safe links to a storage service",
     "https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fgigafile.nu%2Fdl%2Fx&data=05%7C01",
     {"link.storage"}, "quarantine"),
    ("google then bing to a blocked domain",
     "https://www.google.com/url?q=https%3A%2F%2Fwww.bing.com%2Fck%2Fa%3Fu%3Da1aHR0cHM6Ly9jMi5ibG9ja2VkLmV4YW1wbGUv"
     "%26ntb%3D1&sa=D", {"link.blocked_domain"}, "reject"),
    ("search-ms to a WebDAV share",
     "search-ms:query=invoice&crumb=location:\\\\files.sender.example@SSL\\DavWWWRoot&displayname=Invoices",
     {"link.dangerous_scheme", "link.unc"}, "quarantine"),
    ("ms-msdt", "ms-msdt:/id PCWDiagnostic /skip force", {"link.dangerous_scheme"}, "quarantine"),
    ("UNC path", "\\\\203.0.113.10\\share\\請求書.lnk", {"link.unc"}, "quarantine"),
    ("file moniker", "file:///\\\\files.sender.example\\s\\test.rtf!x", {"link.unc"}, "quarantine"),
    ("hyphen lookalike of the protected domain", "https://login-example-com.sender.example/", {"link.lookalike"},
     "quarantine"),
    ("word-order lookalike", "https://com-example.sender.example/", {"link.lookalike"}, "quarantine"),
    ("unknown application", "x-app-launch:run?cmd=1", {"link.app_handler"}, "tag"),
]

ACTIONS = ["accept", "tag", "hold", "quarantine", "reject", "tempfail"]


@pytest.mark.parametrize("name,href,want,action", SCAN_CASES, ids=[c[0] for c in SCAN_CASES])
def test_scan_what_a_click_does(tmp_path, name, href, want, action):
    lists = lists_copy(str(tmp_path))
    rc, v, out, err = run_scan(html_raw(href), tmp_path,
                               extra=("-o", "paths.lists=" + lists, "-o", "domains.protected=example.com",
                                      "-o", "hold.first_contact=no"))
    assert v is not None, "no JSON: %s %s" % (out, err)
    codes = {r["code"] for r in v["reasons"]}
    assert want <= codes, "%s: got %s, want at least %s" % (name, v["reasons"], sorted(want))
    assert ACTIONS.index(v["action"]) >= ACTIONS.index(action), \
        "%s: got action %s, want at least %s" % (name, v["action"], action)


def test_scan_names_the_redirect_chain(tmp_path):
    lists = lists_copy(str(tmp_path))
    href = ("https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fl.facebook.com%2Fl.php%3Fu%3D"
            "https%253A%252F%252Fdl.blocked.example%252Fsetup&data=1")
    rc, v, out, err = run_scan(html_raw(href), tmp_path, extra=("-o", "paths.lists=" + lists))
    assert v is not None, out + err
    r = [r for r in v["reasons"] if r["code"] == "link.blocked_domain"]
    assert r, "blocked target behind two redirectors not found: %s" % v["reasons"]
    assert "safelinks.protection.outlook.com" in r[0]["detail"] and "l.facebook.com" in r[0]["detail"], \
        "the reason must name the chain: %r" % r[0]["detail"]
    assert v["action"] == "reject"


def test_scan_tracking_links_are_not_findings(tmp_path):
    """A newsletter's click tracker that carries its target, and a text that
    names the target: no finding at all (the text matches the unwrapped target)."""
    lists = lists_copy(str(tmp_path))
    href = "https://click.news.sender.example/t?u=https%3A%2F%2Fwww.sender.example%2Fsale%3Futm_source%3Dnews&id=991"
    rc, v, out, err = run_scan(html_raw(href, text="www.sender.example/sale"), tmp_path,
                               extra=("-o", "paths.lists=" + lists, "-o", "domains.protected=example.com"))
    assert v is not None, out + err
    assert not [r for r in v["reasons"] if r["code"].startswith("link.")], v["reasons"]


def test_links_command_shows_targets(tmp_path):
    path = os.path.join(str(tmp_path), "t.html")
    with open(path, "w") as f:
        f.write('<a href="https://www.google.com/url?q=https://gigafile.nu/x">x</a>')
    p = subprocess.run([MAILWARDEN, "links", "--json", "-o", "paths.lists=" + LISTS, path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 0, p.stderr
    links = json.loads(p.stdout)["links"]
    targets = [l for l in links if l["target"]]
    assert targets and targets[0]["domain"] == "gigafile.nu" and "www.google.com" in targets[0]["via"], links
    assert "link.storage" in targets[0]["classes"]


def test_redirected_blocked_domain_is_refused(linklab):
    """End to end: a blocked domain hidden behind Outlook Safe Links is refused with 5xx."""
    token = new_token()
    sender = "wrap-%s@sender.example" % token[:8]
    href = "https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2Fupd.blocked.example%2Fa&data=05"
    raw = html_message(token, sender, PUBLIC, href, text="update")
    r = linklab.send(raw, sender=sender, rcpts=(PUBLIC,))
    assert r.perm and r.code == 550, "want 550 for a blocked domain behind a redirector, got %r" % (r,)
    assert "link.blocked_domain" in r.text, r
    linklab.wait_drained()
    assert not linklab.delivered(token)


def test_search_ms_link_is_quarantined(linklab):
    token = new_token()
    sender = "sm-%s@sender.example" % token[:8]
    href = "search-ms:query=請求書&crumb=location:\\\\files.sender.example@SSL\\DavWWWRoot"
    raw = html_message(token, sender, PUBLIC, href, text="請求書を開く")
    r = linklab.send(raw, sender=sender, rcpts=(PUBLIC,))
    assert r.ok, "want 250 (quarantine keeps the mail), got %r" % (r,)
    linklab.wait_drained()
    assert not linklab.delivered(token), "a search-ms link reached the mailbox"
    assert quarantined(linklab, sender), "not quarantined:\n%s" % linklab.log_tail()


def mixed_message(parts, sender="sales@sender.example"):
    """A multipart/mixed message: parts are (content type, file name or None, bytes)."""
    import base64
    token = new_token()
    out = ("X-Test-Id: %s\r\nFrom: %s\r\nTo: %s\r\nSubject: test\r\nMessage-ID: <%s@test.example>\r\n"
           "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b-%s\"\r\n\r\n"
           % (token, sender, PUBLIC, token, token)).encode()
    out += ("--b-%s\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nsee attached\r\n" % token).encode()
    for ctype, name, data in parts:
        out += ("--b-%s\r\nContent-Type: %s\r\nContent-Transfer-Encoding: base64\r\n" % (token, ctype)).encode()
        if name:
            out += ('Content-Disposition: attachment; filename="%s"\r\n' % name).encode()
        out += b"\r\n" + base64.encodebytes(data).replace(b"\n", b"\r\n")
    return out + ("--b-%s--\r\n" % token).encode()


ATTACHMENT_LINK_CASES = [
    ("internet shortcut to a share",
     [("application/octet-stream", "請求書.url",
       b"[InternetShortcut]\r\nURL=file://files.sender.example/pub/invoice.js\r\nIconIndex=3\r\n")],
     {"attach.executable", "link.unc"}),
    ("calendar alarm sound on a share, folded, and a blocked link",
     [("text/calendar; method=REQUEST", "invite.ics",
       b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:1@sender.example\r\n"
       b"SUMMARY:Review\r\nDESCRIPTION:Agenda at https://docs.blocked.exam\r\n ple/agenda\r\n"
       b"BEGIN:VALARM\r\nACTION:AUDIO\r\nTRIGGER:-PT5M\r\nATTACH;FMTTYPE=audio/x-wav:file://files.send\r\n"
       b" er.example/s/ding.wav\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")],
     {"link.unc", "link.blocked_domain"}),
    ("SVG image with a link",
     [("image/svg+xml", "scan.svg",
       b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
       b'<a xlink:href="https://login.blocked.example/o365"><text y="20">Open document</text></a></svg>')],
     {"link.blocked_domain"}),
]


@pytest.mark.parametrize("name,parts,want", ATTACHMENT_LINK_CASES, ids=[c[0] for c in ATTACHMENT_LINK_CASES])
def test_scan_links_in_attachments(tmp_path, name, parts, want):
    lists = lists_copy(str(tmp_path))
    rc, v, out, err = run_scan(mixed_message(parts), tmp_path,
                               extra=("-o", "paths.lists=" + lists, "-o", "domains.protected=example.com"))
    assert v is not None, out + err
    codes = {r["code"] for r in v["reasons"]}
    assert want <= codes, "%s: got %s, want at least %s" % (name, v["reasons"], sorted(want))
