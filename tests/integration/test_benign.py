"""test_benign.py - the benign mail set end to end: through the real MTA lab
(Postfix, and Sendmail in the matrix) every ordinary business message of
tests/benign/gen_benign.py is accepted with 250 and delivered exactly once
to the sink, with the X-Mailwarden-Verdict the manifest expects (accept, or
tag where the manifest says why).

The daemon is restarted for this module as the organisation example.com
(protected) with the public address info@example.com and with
hold.first_contact off: first contact holds every new correspondent's mail
with attachments by design (tests/benign/run.py measures that share); this
module checks that nothing else stops ordinary mail.  The default daemon is
restored at the end.

tests/benign/run.py runs the same messages through `mailwarden scan` (a
counted suite of tests/run.sh) and reports the hold.first_contact share.
"""

import os
import sys

import pytest

from conftest import REPO, new_token, tag_raw

sys.path.insert(0, os.path.join(REPO, "tests", "benign"))
import gen_benign  # noqa: E402

DAEMON_ARGS = ("-o domains.protected=example.com -o domains.public=info@example.com "
               "-o hold.first_contact=no")


@pytest.fixture(scope="module")
def benign(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("benign"))
    return {e["name"]: e for e in gen_benign.build(d)}


@pytest.fixture(scope="module")
def benignlab(lab):
    lab.lab("restart-milter", MW_ARGS=DAEMON_ARGS)
    try:
        yield lab
    finally:
        lab.lab("restart-milter", MW_ARGS="", check=False)


@pytest.mark.parametrize("name", gen_benign.names())
def test_benign_delivered(benignlab, benign, name):
    e = benign[name]
    token = new_token()
    with open(e["file"], "rb") as f:
        raw = tag_raw(f.read(), token)
    r = benignlab.send(raw, sender=e["sender"] or "<>", rcpts=tuple(e["rcpts"]))
    assert r.ok, "%s (%s): want 250, got %r\n%s" % (name, e["what"], r, benignlab.log_tail())
    benignlab.wait_drained()
    got = benignlab.delivered(token)
    assert len(got) == 1, "%s: delivered %d times, want once (false positive?)\n%s" % (
        name, len(got), benignlab.log_tail())
    verdict = got[0].get("X-Mailwarden-Verdict", "")
    reasons = got[0].get("X-Mailwarden-Reasons", "")
    assert verdict.split()[0:1] == [e["action"]], "%s: verdict %r (%s), want %s" % (
        name, verdict, reasons, e["action"])
