"""test_sender.py - sender policy end to end through Postfix: the 2015
campaign replayed with our own samples.

The lab's configuration protects example.com with info@example.com as its
public address.  Fan-out and campaign state lives in the daemon's SQLite
store, so each test uses fresh sender addresses."""

import os
import re
import time
from email.header import Header

import pytest

from conftest import new_token


STAFF = ["staff%02d@example.com" % i for i in range(1, 31)]
SURNAMES = ["山田 太郎", "佐藤", "鈴木 一郎", "高橋", "田中 美咲", "伊藤", "渡辺 健", "中村",
            "小林", "加藤 花子", "吉田", "山本", "松本", "井上", "木村", "林", "斎藤", "清水",
            "山口", "森", "池田", "橋本", "阿部", "石川", "山下", "中島", "石井", "小川",
            "前田", "岡田"]


def campaign_mail(token, sender, rcpt, surname, n, charset):
    """The 2015-style template: the recipient's surname in kanji, a reference
    number and a date that change, in ISO-2022-JP or UTF-8."""
    body = ("%s 様\n\nいつもお世話になっております。\n"
            "「厚生年金基金制度の見直しについて（試案）」に関する意見募集の資料を"
            "お送りいたします。\n資料番号：%d\n受付日：2015年5月%d日\n"
            "ご確認のほど、よろしくお願いいたします。\n" % (surname, 1000 + n, 8 + n % 20))
    subject = Header("【至急】制度見直し（試案）に関する意見募集", charset).encode()
    if charset == "iso-2022-jp":
        payload = body.encode("iso2022_jp").replace(b"\n", b"\r\n")
        cte = "7bit"
    else:
        payload = body.encode("utf-8").replace(b"\n", b"\r\n")
        cte = "8bit"
    head = ("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@test.example>\r\n"
            "X-Test-Id: %s\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=%s\r\nContent-Transfer-Encoding: %s\r\n\r\n"
            % (sender, rcpt, subject, token, token, charset.upper(), cte))
    return head.encode("ascii") + payload


def mw_log(lab):
    with open(os.path.join(lab.run_dir, "log", "mailwardend.log"), errors="replace") as f:
        return f.read()


def restart_milter(lab, *args):
    lab.lab("restart-milter", MW_ARGS=" ".join(args))


def test_freemail_to_staff_refused_at_rcpt(milter):
    sender = "kanri-%s@yahoo.co.jp" % new_token()
    token = new_token()
    r = milter.send(campaign_mail(token, sender, STAFF[0], "山田", 1, "utf-8"),
                    sender=sender, rcpts=(STAFF[0],))
    assert r.perm and r.stage == "RCPT", r
    assert "sender.freemail" in r.text, r
    milter.wait_drained()
    assert milter.count_delivered(token) == 0


def test_freemail_plain_question_to_public_address_accepted(milter):
    sender = "question-%s@gmail.com" % new_token()
    token = new_token()
    raw = ("From: %s\r\nTo: info@example.com\r\nSubject: =?UTF-8?B?5bm06YeR44Gr44Gk44GE44Gm?=\r\n"
           "X-Test-Id: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
           "Content-Transfer-Encoding: 8bit\r\n\r\n" % (sender, token)).encode() + \
        "年金の受給手続きについて教えてください。\r\n".encode()
    r = milter.send(raw, sender=sender, rcpts=("info@example.com",))
    assert r.ok, r
    milter.wait_drained()
    assert milter.count_delivered(token) == 1


def test_2015_campaign_replay(milter):
    """One free-mail sender to 30 staff within minutes: accepted up to the
    threshold (5), refused after; the same template from two new free-mail
    senders: refused as a campaign; the daemon restarted mid-campaign keeps
    its state.  Free-mail to staff is allowed here (tag), as the
    organisation in 2015 allowed it, so the fan-out rule is what stops it."""
    restart_milter(milter, "-o", "actions.sender.freemail=tag")
    try:
        run = new_token()
        first = "nenkin-kanri-%s@yahoo.co.jp" % run
        outcomes = []
        for i, rcpt in enumerate(STAFF):
            token = "%s-a%02d" % (run, i)
            raw = campaign_mail(token, first, rcpt, SURNAMES[i], i,
                                "iso-2022-jp" if i % 2 == 0 else "utf-8")
            outcomes.append(milter.send(raw, sender=first, rcpts=(rcpt,)))
        codes = [r.code for r in outcomes]
        assert all(r.ok for r in outcomes[:5]), codes
        assert all(r.perm and r.stage == "RCPT" for r in outcomes[5:]), codes
        assert "sender.fanout" in outcomes[5].text, outcomes[5]
        assert all("sender.blocked" in r.text or "sender.fanout" in r.text
                   for r in outcomes[6:]), outcomes[6]
        milter.wait_drained()
        assert milter.count_delivered(run + "-a") == 5
        log = mw_log(milter)
        assert re.search(r"blocked sender %s: sender\.fanout" % re.escape(first), log), \
            "fan-out block not logged"
        assert "stage=rcpt action=reject reasons=sender.fanout" in log

        # The same template from two new free-mail addresses: a campaign.
        for k, second in enumerate(("nenkin-%s-2@gmail.com" % run, "kikin-%s-3@outlook.jp" % run)):
            token = "%s-b%d" % (run, k)
            raw = campaign_mail(token, second, STAFF[10 + k], SURNAMES[20 + k], 50 + k,
                                "utf-8" if k == 0 else "iso-2022-jp")
            r = milter.send(raw, sender=second, rcpts=(STAFF[10 + k],))
            assert r.perm and r.stage == "DATA", r
            assert "sender.campaign" in r.text, r

        # Restarted mid-campaign: blocks and fingerprints survive.
        restart_milter(milter, "-o", "actions.sender.freemail=tag")
        r = milter.send(campaign_mail(run + "-c", first, STAFF[0], "山田", 1, "utf-8"),
                        sender=first, rcpts=(STAFF[0],))
        assert r.perm and r.stage == "RCPT", r
        assert "sender.blocked" in r.text or "sender.fanout" in r.text, r
        third = "kanri-%s-4@hotmail.co.jp" % run
        r = milter.send(campaign_mail(run + "-d", third, STAFF[20], "森", 77, "iso-2022-jp"),
                        sender=third, rcpts=(STAFF[20],))
        assert r.perm and "sender.campaign" in r.text, r
        milter.wait_drained()
        assert milter.count_delivered(run + "-b") == 0
        assert milter.count_delivered(run + "-c") == 0
        assert milter.count_delivered(run + "-d") == 0

        # A different business mail from a new free-mail sender is not a campaign.
        other = "tanaka-%s@gmail.com" % run
        raw = ("From: %s\r\nTo: %s\r\nSubject: minutes\r\nX-Test-Id: %s-e\r\n\r\n"
               "Here are the minutes of Tuesday's meeting.\r\n" % (other, STAFF[25], run)).encode()
        r = milter.send(raw, sender=other, rcpts=(STAFF[25],))
        assert r.ok, r
    finally:
        restart_milter(milter)
