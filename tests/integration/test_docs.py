"""test_docs.py - the documentation stays true to the code: every reason
code and every configuration key the binaries know is in README.md, the
sample configuration is what `mailwarden config --sample` prints, and the
embedded defaults and the sample both pass `config --check`."""

import json
import os
import re
import subprocess

from conftest import MAILWARDEN, MAILWARDEND, REPO


def run(*args):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def readme():
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        return f.read()


def test_every_reason_code_documented():
    rc, out, err = run(MAILWARDEN, "reasons", "--json")
    assert rc == 0, err
    codes = [r["code"] for r in json.loads(out)]
    assert len(codes) >= 30
    text = readme()
    missing = [c for c in codes if "`%s`" % c not in text]
    assert not missing, "reason codes missing from README.md: %s" % missing


def test_every_config_key_documented():
    rc, out, err = run(MAILWARDEN, "config", "--sample")
    assert rc == 0, err
    text = readme()
    section = None
    missing = []
    for line in out.splitlines():
        m = re.match(r"^\[(\w+)\]$", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^#([a-z_]+) =", line)
        if m and section != "actions" and "`%s`" % m.group(1) not in text:
            missing.append("%s.%s" % (section, m.group(1)))
    assert not missing, "configuration keys missing from README.md: %s" % missing


def test_sample_config_is_generated():
    rc, out, err = run(MAILWARDEN, "config", "--sample")
    with open(os.path.join(REPO, "etc", "mailwarden.conf.sample"), encoding="utf-8") as f:
        assert f.read() == out, "etc/mailwarden.conf.sample is stale: regenerate it with " \
                                "`mailwarden config --sample > etc/mailwarden.conf.sample`"


def test_sample_and_defaults_check():
    rc, out, err = run(MAILWARDEN, "config", "--check", "-c",
                       os.path.join(REPO, "etc", "mailwarden.conf.sample"))
    assert rc == 0 and "configuration is valid" in out, out + err
    rc, out, err = run(MAILWARDEND, "--check-config", "-c",
                       os.path.join(REPO, "etc", "mailwarden.conf.sample"))
    assert rc == 0, out + err


def test_bad_config_names_file_and_line(tmp_path):
    path = tmp_path / "bad.conf"
    path.write_text("[limits]\nmax_mime_depth = 7\nmax_mime_parts = many\n")
    rc, out, err = run(MAILWARDEND, "--check-config", "-c", str(path))
    assert rc == 2
    assert "%s:3:" % path in err and "max_mime_parts" in err, err


def test_help_texts():
    for binary in (MAILWARDEN, MAILWARDEND):
        rc, out, err = run(binary, "--help")
        assert rc == 0 and "Usage:" in out, err
        assert max(len(l) for l in out.splitlines()) <= 80, "--help wider than 80 columns"
        rc, out, err = run(binary, "--version")
        assert rc == 0 and "0." in out
