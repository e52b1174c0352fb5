"""test_appliance.py - the root side of the appliance's settings, on the host:
`mailwarden appliance env|render` (what the apply command reads) and
`mailwarden tls` (the SMTP certificate), with tools we did not write as
oracles: Postfix's own `postconf` parses the rendered main.cf, `sh`
evaluates the variables, OpenSSL reads our certificate, request and
fingerprint and plays the CA.  No lab: these are the programs the apply
command runs as root on the appliance."""

import hashlib
import os
import sqlite3
import subprocess
import time

import pytest

from conftest import MAILWARDEN, REPO

TEMPLATE = os.path.join(REPO, "firmware", "overlay", "etc", "postfix", "main.cf.in")
MASTER = os.path.join(REPO, "firmware", "overlay", "etc", "postfix", "master.cf")


def run(*args, stdin=None):
    p = subprocess.run(list(args), input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def openssl(*args, stdin=None):
    rc, out, err = run("openssl", *args, stdin=stdin)
    assert rc == 0, err
    return out


@pytest.fixture
def appliance_conf(tmp_path):
    """A configuration file like the appliance's and a state database with rules,
    as the console leaves them (rows written the way store_rules.c does)."""
    state = tmp_path / "state"
    state.mkdir()
    conf = tmp_path / "mailwarden.conf"
    conf.write_text("[paths]\nstate = %s\nlists = %s\n[domains]\nprotected = example.com\n"
                    "[system]\nhostname = mailwarden-qemu\nnetwork = static\naddress = 10.0.2.15/24\n"
                    "gateway = 10.0.2.2\ndns = 10.0.2.3\n" % (state, os.path.join(REPO, "data", "lists")))
    # the daemon's schema: any command that opens the state creates it
    rc, out, err = run(MAILWARDEN, "quarantine", "list", "-c", str(conf))
    assert rc == 0, err
    return conf, state


def add_rule(state, key, value):
    db = sqlite3.connect(str(state / "mailwarden.db"))
    db.execute("INSERT OR REPLACE INTO rules(key, value, who, time) VALUES(?, ?, 'test', ?)",
               (key, value, int(time.time())))
    db.commit()
    db.close()


def test_render_is_main_cf_postfix_reads(appliance_conf, tmp_path):
    conf, state = appliance_conf
    add_rule(state, "domains.protected", "example.com, nenkin.example")
    add_rule(state, "mta.relay_host", "[192.0.2.25]:25")
    add_rule(state, "limits.max_message_size", "20M")
    add_rule(state, "mta.relay_tls", "encrypt")
    rc, main_cf, err = run(MAILWARDEN, "appliance", "render", "-c", str(conf), "--hostname", "ignored.example",
                           TEMPLATE)
    assert rc == 0, err
    assert "@" not in "".join(l for l in main_cf.splitlines() if not l.startswith("#") and "macros" not in l)
    pf = tmp_path / "postfix"
    pf.mkdir()
    (pf / "main.cf").write_text(main_cf)
    (pf / "master.cf").write_text(open(MASTER).read())
    rc, out, err = run("postconf", "-c", str(pf), "-h", "relay_domains", "relay_transport", "message_size_limit",
                       "myhostname", "smtpd_tls_security_level", "smtp_tls_security_level", "smtpd_tls_chain_files",
                       "smtpd_milters", "milter_default_action")
    assert rc == 0, err
    got = out.splitlines()
    assert got[:6] == ["example.com, nenkin.example", "smtp:[192.0.2.25]:25", "20971520", "mailwarden-qemu",
                       "may", "encrypt"], got
    assert "/data/etc/tls/key.pem" in got[6] and "milter.sock" in got[7] and got[8] == "tempfail", got
    rc, out, err = run("postconf", "-c", str(pf), "-n")
    assert rc == 0 and "warning" not in err, err


def test_no_relay_host_keeps_mail_queued(appliance_conf, tmp_path):
    conf, _ = appliance_conf
    rc, main_cf, err = run(MAILWARDEN, "appliance", "render", "-c", str(conf), TEMPLATE)
    assert rc == 0, err
    line = [l for l in main_cf.splitlines() if l.startswith("relay_transport")][0]
    assert line.startswith("relay_transport = retry:"), line


def test_env_is_shell_variables(appliance_conf):
    conf, state = appliance_conf
    add_rule(state, "system.ntp", "ntp.nict.jp, 192.0.2.123")
    add_rule(state, "system.hostname", "mx1.nenkin.example")
    rc, out, err = run(MAILWARDEN, "appliance", "env", "-c", str(conf))
    assert rc == 0, err
    rc, vals, err = run("sh", "-c", out + '\nprintf "%s|%s|%s|%s|%s\\n" "$MW_HOSTNAME" "$MW_NETWORK" "$MW_ADDRESS" '
                        '"$MW_NTP" "$MW_RELAY_DOMAINS"')
    assert rc == 0, err
    assert vals.strip() == "mx1.nenkin.example|static|10.0.2.15/24|ntp.nict.jp 192.0.2.123|example.com", vals


@pytest.mark.parametrize("key,value", [
    ("mta.relay_host", "[192.0.2.25]:25\nsmtpd_milters ="),
    ("system.hostname", "x'; touch /tmp/pwned; '"),
    ("domains.protected", "example.com $(reboot)"),
    ("system.dns", "10.0.2.3; rm -rf /"),
])
def test_hostile_rule_is_not_applied(appliance_conf, key, value):
    """A rule written behind the daemon's back (a daemon taken over by a
    hostile message can write its own database) does not pass the root
    side's checks: nothing is printed for the apply command to use."""
    conf, state = appliance_conf
    add_rule(state, key, value)
    rc, out, err = run(MAILWARDEN, "appliance", "env", "-c", str(conf))
    assert rc != 0 and out == "", (out, err)
    assert key.split(".")[1] in err, err
    rc, out, err = run(MAILWARDEN, "appliance", "render", "-c", str(conf), TEMPLATE)
    assert rc != 0 and out == "", (out, err)


def test_tls_selfsigned_and_request_read_by_openssl(tmp_path):
    d = str(tmp_path / "tls")
    rc, out, err = run(MAILWARDEN, "tls", "selfsigned", "--dir", d, "mx.nenkin.example", "mail.nenkin.example")
    assert rc == 0, err
    assert oct(os.stat(os.path.join(d, "key.pem")).st_mode & 0o777) == "0o600"
    chain = os.path.join(d, "chain.pem")
    fp = openssl("x509", "-in", chain, "-noout", "-fingerprint", "-sha256").strip().split("=", 1)[1]
    shown = "".join(out.split("sha256", 1)[1].split("chain", 1)[0].split()).replace(":", "")
    assert shown == fp.replace(":", ""), (shown, fp)
    text = openssl("x509", "-in", chain, "-noout", "-text")
    assert "DNS:mx.nenkin.example, DNS:mail.nenkin.example" in text and "ASN1 OID: prime256v1" in text
    rc, csr, err = run(MAILWARDEN, "tls", "csr", "--dir", d, "mx.nenkin.example")
    assert rc == 0, err
    rc, out, err = run("openssl", "req", "-noout", "-verify", "-subject", stdin=csr.encode())
    assert rc == 0 and "mx.nenkin.example" in out, out + err
    rc, out, err = run(MAILWARDEN, "tls", "csr", "--dir", d, "bad name")
    assert rc == 1 and "not a domain name" in err, err


@pytest.fixture
def ca(tmp_path):
    """An OpenSSL CA with an intermediate, for the chain tests."""
    c = tmp_path / "ca"
    c.mkdir()
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", str(c / "root.key"), "-out", str(c / "root.pem"), "-days", "30", "-subj", "/CN=Test Root")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(c / "int.key"), "-out", str(c / "int.csr"),
            "-subj", "/CN=Test Intermediate")
    (c / "ca.ext").write_text("basicConstraints=critical,CA:true\n")
    openssl("x509", "-req", "-in", str(c / "int.csr"), "-CA", str(c / "root.pem"), "-CAkey", str(c / "root.key"),
            "-CAcreateserial", "-out", str(c / "int.pem"), "-days", "30", "-extfile", str(c / "ca.ext"))
    return c


def sign(ca, csr_pem, days_args):
    (ca / "req.csr").write_text(csr_pem)
    openssl("x509", "-req", "-in", str(ca / "req.csr"), "-CA", str(ca / "int.pem"), "-CAkey", str(ca / "int.key"),
            "-CAcreateserial", "-out", str(ca / "leaf.pem"), *days_args)
    return (ca / "leaf.pem").read_text()


def test_tls_install_checks_the_chain(tmp_path, ca):
    d = str(tmp_path / "tls")
    other = str(tmp_path / "other")
    assert run(MAILWARDEN, "tls", "selfsigned", "--dir", d, "mx.nenkin.example")[0] == 0
    assert run(MAILWARDEN, "tls", "selfsigned", "--dir", other, "mx.nenkin.example")[0] == 0
    csr = run(MAILWARDEN, "tls", "csr", "--dir", d, "mx.nenkin.example")[1]
    leaf = sign(ca, csr, ["-days", "20"])
    inter = (ca / "int.pem").read_text()
    before = open(os.path.join(d, "chain.pem")).read()
    cases = [
        ("intermediate first", inter + leaf, "not for this appliance's key"),
        ("another appliance's key", open(os.path.join(other, "chain.pem")).read(), "not for this appliance's key"),
        ("an unrelated issuer after the leaf", leaf + open(os.path.join(other, "chain.pem")).read(),
         "not issued and signed by the next"),
        ("not PEM", "hello\n", "no \"-----BEGIN CERTIFICATE-----\""),
    ]
    for name, pem, why in cases:
        rc, out, err = run(MAILWARDEN, "tls", "install", "--dir", d, stdin=pem.encode())
        assert rc == 1 and why in err, (name, err)
        assert open(os.path.join(d, "chain.pem")).read() == before, name
    rc, out, err = run(MAILWARDEN, "tls", "install", "--dir", d, stdin=(leaf + inter).encode())
    assert rc == 0 and "installed" in out and "2 certificate(s)" in out, out + err
    assert open(os.path.join(d, "chain.pem")).read() == leaf + inter
    rc, out, err = run("openssl", "verify", "-CAfile", str(ca / "root.pem"), "-untrusted", str(ca / "int.pem"),
                       os.path.join(d, "chain.pem"))
    assert rc == 0, out + err
    fp = hashlib.sha256(subprocess.run(["openssl", "x509", "-outform", "DER"], input=leaf.encode(),
                                       stdout=subprocess.PIPE, check=True).stdout).hexdigest().upper()
    rc, out, err = run(MAILWARDEN, "tls", "show", "--dir", d)
    assert rc == 0 and fp == "".join(out.split("sha256", 1)[1].split("chain", 1)[0].split()).replace(":", "")


def test_tls_install_refuses_an_expired_certificate(tmp_path, ca):
    d = str(tmp_path / "tls")
    assert run(MAILWARDEN, "tls", "selfsigned", "--dir", d, "mx.nenkin.example")[0] == 0
    csr = run(MAILWARDEN, "tls", "csr", "--dir", d, "mx.nenkin.example")[1]
    (ca / "req.csr").write_text(csr)
    # OpenSSL's ca command sets the dates we ask for: a certificate that ended in 2020
    (ca / "index.txt").write_text("")
    (ca / "serial").write_text("1000\n")
    (ca / "ca.cnf").write_text(
        "[ca]\ndefault_ca = t\n[t]\ndatabase = %s\nserial = %s\nnew_certs_dir = %s\npolicy = p\n"
        "default_md = sha256\n[p]\ncommonName = supplied\n" % (ca / "index.txt", ca / "serial", ca))
    openssl("ca", "-batch", "-config", str(ca / "ca.cnf"), "-cert", str(ca / "int.pem"), "-keyfile",
            str(ca / "int.key"), "-in", str(ca / "req.csr"), "-out", str(ca / "old.pem"), "-notext",
            "-startdate", "20200101000000Z", "-enddate", "20200201000000Z")
    old = (ca / "old.pem").read_text()
    rc, out, err = run(MAILWARDEN, "tls", "install", "--dir", d, stdin=(old + (ca / "int.pem").read_text()).encode())
    assert rc == 1 and "has expired" in err, err
