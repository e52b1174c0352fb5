#!/usr/bin/python3
# NAME
#	gen_samples.py - write the MIME sample messages (clean-*.eml, mal-*.eml)
# SYNOPSIS
#	python3 tests/samples/gen_samples.py [OUTDIR]
# DESCRIPTION
#	Japanese mail must be byte exact in its charsets (ISO-2022-JP,
#	Shift_JIS/CP932, EUC-JP) and some malformed samples are large, so
#	they are generated here rather than typed.  The outputs are
#	committed too; re-running gives the same bytes (no dates, no
#	randomness).  Standard library only.
#
#	Organisations use example.com / *.example names; free-mail senders
#	are sender data only.
# LICENSE
#	GPL-2.0-or-later
import base64
import os
import quopri
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))


def b64w(data, width=76):
    s = base64.b64encode(data).decode('ascii')
    return '\n'.join(s[i:i + width] for i in range(0, len(s), width))


def ew(text, charset, codec=None):
    """One RFC 2047 B encoded-word."""
    raw = text.encode(codec or charset)
    return '=?%s?B?%s?=' % (charset, base64.b64encode(raw).decode('ascii'))


def write(name, text, crlf=False):
    data = text.encode('latin-1') if isinstance(text, str) else text
    if crlf:
        data = data.replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)


def jis(text):
    """ISO-2022-JP bytes as a latin-1 string for embedding."""
    return text.encode('iso2022_jp').decode('latin-1')


# NEC special character (1) in JIS row 13, as Windows mailers send it.
CIRCLED_1 = '\x1b$B-!\x1b(B'


def clean_iso2022jp():
    body = (jis('山田様\n\nいつもお世話になっております。\n株式会社サンプルの佐藤です。\n\n'
                '先日の件につきまして、下記の通りご連絡いたします。\n') +
            CIRCLED_1 + jis('　打合せ日程：六月三日（水）十時\n') +
            jis('\nよろしくお願いいたします。\n'))
    msg = ('Return-Path: <sato@sample-corp.example>\n'
           'From: ' + ew('佐藤 一郎', 'ISO-2022-JP', 'iso2022_jp') + ' <sato@sample-corp.example>\n'
           'To: ' + ew('山田', 'ISO-2022-JP', 'iso2022_jp') + ' <yamada@example.com>\n'
           'Subject: ' + ew('打合せ日程の', 'ISO-2022-JP', 'iso2022_jp') + '\n'
           ' ' + ew('ご連絡', 'ISO-2022-JP', 'iso2022_jp') + '\n'
           'Message-ID: <20150518.0001@sample-corp.example>\n'
           'MIME-Version: 1.0\n'
           'Content-Type: text/plain; charset=ISO-2022-JP\n'
           'Content-Transfer-Encoding: 7bit\n'
           '\n' + body)
    write('clean-iso2022jp.eml', msg, crlf=True)


def clean_sjis():
    body = ('各位\n\n来週の会議資料を送付します。\n①議事録　②予算案\n\n総務課 鈴木\n').encode('cp932')
    msg = ('From: ' + ew('鈴木', 'Shift_JIS', 'cp932') + ' <suzuki@city-office.example>\n'
           'To: staff@city-office.example\n'
           'Subject: ' + ew('会議資料（ご確認ください）', 'Shift_JIS', 'cp932') + '\n'
           'MIME-Version: 1.0\n'
           'Content-Type: text/plain; charset="Shift_JIS"\n'
           'Content-Transfer-Encoding: base64\n'
           '\n' + b64w(body) + '\n')
    write('clean-sjis-base64.eml', msg)


def clean_eucjp():
    body = ('お問い合わせありがとうございます。\n担当より折り返しご連絡いたします。\n').encode('euc_jp')
    msg = ('From: info@clinic.example\n'
           'To: patient@example.com\n'
           'Subject: ' + ew('お問い合わせ受付', 'EUC-JP', 'euc_jp') + '\n'
           'MIME-Version: 1.0\n'
           'Content-Type: text/plain; charset=EUC-JP\n'
           'Content-Transfer-Encoding: 8bit\n'
           '\n').encode('latin-1') + body
    write('clean-eucjp.eml', msg)


def clean_utf8_qp():
    text = ('年金記録の確認について、下記のリンクではなく窓口でお問い合わせください。'
            'This line is long enough to need soft line breaks in quoted-printable. ' * 2 +
            '\n合計: 1,000円 = 税込\n')
    qp = quopri.encodestring(text.encode('utf-8')).decode('ascii')
    msg = ('From: "Pension Office" <notice@pension.example>\n'
           'To: taro.yamada@yahoo.co.jp\n'
           'Subject: =?UTF-8?Q?=E3=81=8A=E7=9F=A5=E3=82=89=E3=81=9B?= (notice)\n'
           'MIME-Version: 1.0\n'
           'Content-Type: text/plain; charset=utf-8; format=flowed\n'
           'Content-Transfer-Encoding: quoted-printable\n'
           '\n' + qp)
    write('clean-utf8-qp.eml', msg, crlf=True)


def clean_alternative():
    html = '<html><body><p>会議は<b>10時</b>からです。</p></body></html>\n'
    msg = ('From: tanaka@law-office.example\n'
           'To: client@example.com\n'
           'Subject: Meeting\n'
           'MIME-Version: 1.0\n'
           'Content-Type: multipart/alternative;\n'
           '\tboundary="----=_Part_0_123.456"\n'
           '\n'
           'This is a multi-part message in MIME format.\n'
           '\n'
           '------=_Part_0_123.456\n'
           'Content-Type: text/plain; charset=UTF-8\n'
           'Content-Transfer-Encoding: base64\n'
           '\n' + b64w('会議は10時からです。\n'.encode('utf-8')) + '\n'
           '------=_Part_0_123.456\n'
           'Content-Type: text/html; charset=UTF-8\n'
           'Content-Transfer-Encoding: base64\n'
           '\n' + b64w(html.encode('utf-8')) + '\n'
           '------=_Part_0_123.456--  \n'
           '\n')
    write('clean-alternative.eml', msg)


def pct(raw):
    return ''.join('%%%02X' % b for b in raw)


def clean_rfc2231():
    name = '請求書_2015年5月分.pdf'.encode('utf-8')
    half = len(name) // 2
    sjis_name = '見積書.xls'.encode('cp932')
    msg = ('From: keiri@trading.example\n'
           'To: shiharai@example.com\n'
           'Subject: =?UTF-8?B?' + base64.b64encode('請求書送付'.encode()).decode() + '?=\n'
           'MIME-Version: 1.0\n'
           'Content-Type: multipart/mixed; boundary="=_mixed_0001"\n'
           '\n'
           '--=_mixed_0001\n'
           'Content-Type: text/plain; charset=UTF-8\n'
           'Content-Transfer-Encoding: 8bit\n'
           '\n').encode('latin-1') + '請求書を添付いたします。\n'.encode('utf-8') + (
           '--=_mixed_0001\n'
           'Content-Type: application/pdf\n'
           'Content-Disposition: attachment;\n'
           " filename*0*=UTF-8''" + pct(name[:half]) + ';\n'
           ' filename*1*=' + pct(name[half:]) + '\n'
           'Content-Transfer-Encoding: base64\n'
           '\n' + b64w(b'%PDF-1.4\n%sample\n1 0 obj\n<<>>\nendobj\n%%EOF\n') + '\n'
           '--=_mixed_0001\n'
           'Content-Type: application/vnd.ms-excel\n'
           "Content-Disposition: attachment; filename*=shift_jis'ja'" + pct(sjis_name) + '\n'
           'Content-Transfer-Encoding: base64\n'
           '\n' + b64w(b'\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1' + bytes(40)) + '\n'
           '--=_mixed_0001--\n').encode('latin-1')
    write('clean-rfc2231-filename.eml', msg, crlf=True)


def clean_rfc2047_filename():
    fname = ew('給与明細.lzh', 'ISO-2022-JP', 'iso2022_jp')
    msg = ('From: ' + ew('人事部', 'ISO-2022-JP', 'iso2022_jp') + ' <jinji@example.com>\n'
           'To: staff01@example.com\n'
           'Subject: ' + ew('給与明細', 'ISO-2022-JP', 'iso2022_jp') + '\n'
           'MIME-Version: 1.0\n'
           'Content-Type: multipart/mixed; boundary="b1_abcdef"\n'
           '\n'
           '--b1_abcdef\n'
           'Content-Type: text/plain; charset=ISO-2022-JP\n'
           '\n' + jis('添付ファイルをご確認ください。\n') +
           '--b1_abcdef\n'
           'Content-Type: application/octet-stream;\n'
           ' name="' + fname + '"\n'
           'Content-Disposition: attachment;\n'
           ' filename="' + fname + '"\n'
           'Content-Transfer-Encoding: base64\n'
           '\n' + b64w(b'\x00\x00-lh5-' + bytes(16)) + '\n'
           '--b1_abcdef--\n')
    write('clean-rfc2047-filename.eml', msg)


def clean_forward():
    inner = ('From: sender@yahoo.co.jp\n'
             'To: ' + ew('窓口', 'ISO-2022-JP', 'iso2022_jp') + ' <madoguchi@pension.example>\n'
             'Subject: ' + ew('年金制度の見直しについて（意見）', 'ISO-2022-JP', 'iso2022_jp') + '\n'
             'MIME-Version: 1.0\n'
             'Content-Type: multipart/mixed; boundary="inner-b"\n'
             '\n'
             '--inner-b\n'
             'Content-Type: text/plain; charset=iso-2022-jp\n'
             '\n' + jis('下記のリンクからご覧ください。\n') +
             'https://storage.example/dl/abc123\n'
             '--inner-b\n'
             'Content-Type: application/octet-stream; name="doc.exe"\n'
             'Content-Transfer-Encoding: base64\n'
             '\n' + b64w(b'MZ\x90\x00' + bytes(28)) + '\n'
             '--inner-b--\n')
    msg = ('From: security@pension.example\n'
           'To: csirt@pension.example\n'
           'Subject: Fwd: suspicious mail\n'
           'MIME-Version: 1.0\n'
           'Content-Type: multipart/mixed; boundary="outer-b"\n'
           '\n'
           '--outer-b\n'
           'Content-Type: text/plain\n'
           '\n'
           'Forwarding the suspicious mail as an attachment.\n'
           '--outer-b\n'
           'Content-Type: message/rfc822\n'
           'Content-Disposition: attachment; filename="forwarded.eml"\n'
           '\n' + inner +
           '--outer-b--\n')
    write('clean-forward-rfc822.eml', msg, crlf=True)


def mal_samples():
    write('mal-unclosed-boundary.eml',
          'From: a@example.com\nTo: b@example.com\nSubject: unclosed\nMIME-Version: 1.0\n'
          'Content-Type: multipart/mixed; boundary="never"\n\n'
          '--never\nContent-Type: text/plain\n\nfirst part\n'
          '--never\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n'
          'AAECAwQFBgcICQ==\n')
    write('mal-missing-boundary.eml',
          'From: a@example.com\nTo: b@example.com\nSubject: no boundary\nMIME-Version: 1.0\n'
          'Content-Type: multipart/mixed\n\n'
          '--whatever\nContent-Type: text/plain\n\nhidden text\n--whatever--\n')
    write('mal-boundary-not-found.eml',
          'From: a@example.com\nTo: b@example.com\nSubject: boundary absent\nMIME-Version: 1.0\n'
          'Content-Type: multipart/mixed; boundary="declared"\n\n'
          '--other\nContent-Type: text/plain\n\ntext under another boundary\n--other--\n')
    write('mal-nul-bytes.eml',
          b'From: a@example.com\nTo: b@example.com\nSubject: nul\x00here\nMIME-Version: 1.0\n'
          b'Content-Type: text/plain; charset=us-ascii\n\nbody with\x00a NUL\n')
    write('mal-bad-base64.eml',
          'From: a@example.com\nTo: b@example.com\nSubject: bad base64\nMIME-Version: 1.0\n'
          'Content-Type: multipart/mixed; boundary=B\n\n'
          '--B\nContent-Type: application/octet-stream; name=x.bin\n'
          'Content-Transfer-Encoding: base64\n\n'
          'SGVs!!bG8g*d29y~bGQ=\n####\nQUJD\n--B--\n')
    write('mal-long-header.eml',
          'From: a@example.com\nTo: b@example.com\nSubject: long header\n'
          'X-Padding: ' + 'A' * (100 * 1024) + '\n'
          'MIME-Version: 1.0\nContent-Type: text/plain\n\nbody after a long header\n')
    # 60 nested multiparts, each with a text part, then the innermost text.
    head = ('From: a@example.com\nTo: b@example.com\nSubject: deep\nMIME-Version: 1.0\n'
            'Content-Type: multipart/mixed; boundary="L0"\n\n')
    parts = []
    for i in range(60):
        parts.append('--L%d\nContent-Type: multipart/mixed; boundary="L%d"\n\n' % (i, i + 1))
    parts.append('--L60\nContent-Type: text/plain\n\ninnermost\n--L60--\n')
    for i in range(59, -1, -1):
        parts.append('--L%d--\n' % i)
    write('mal-deep-nesting.eml', head + ''.join(parts))
    many = ['From: a@example.com\nTo: b@example.com\nSubject: many parts\nMIME-Version: 1.0\n'
            'Content-Type: multipart/mixed; boundary="P"\n\n']
    for i in range(500):
        many.append('--P\nContent-Type: text/plain\n\npart %d\n' % (i + 1))
    many.append('--P--\n')
    write('mal-many-parts.eml', ''.join(many))
    hostile_samples()


def hostile_samples():
    """Issue 16: structures mail readers repair and a strict parser would skip."""
    inner = ('--enc\nContent-Type: text/plain\n\nsee the attachment\n'
             '--enc\nContent-Type: application/octet-stream; name="invoice.exe"\n'
             'Content-Transfer-Encoding: base64\n\n' + b64w(b'MZ\x90\x00' + bytes(28)) + '\n'
             '--enc--\n')
    write('mal-base64-multipart.eml',
          'From: a@example.com\nTo: b@example.com\nSubject: encoded multipart\nMIME-Version: 1.0\n'
          'Content-Type: multipart/mixed; boundary="enc"\nContent-Transfer-Encoding: base64\n\n'
          + b64w(inner.encode('ascii')) + '\n')
    write('mal-base64-rfc822.eml',
          'From: a@example.com\nTo: b@example.com\nSubject: encoded forward\nMIME-Version: 1.0\n'
          'Content-Type: multipart/mixed; boundary="o"\n\n'
          '--o\nContent-Type: text/plain\n\nforwarded\n'
          '--o\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n'
          + b64w(('Subject: inner\nContent-Type: multipart/mixed\n\n' + inner).encode('ascii')) + '\n'
          '--o--\n')
    write('mal-utf16-text.eml',
          'From: a@example.com\nTo: b@example.com\nSubject: utf-16 as latin-1\nMIME-Version: 1.0\n'
          'Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: base64\n\n'
          + b64w(b'\xff\xfe' + 'Download: https://firestorage.jp/download/abc123\n'.encode('utf-16-le')) + '\n')
    write('mal-nul-filename.eml',
          b'From: a@example.com\nTo: b@example.com\nSubject: nul in names\nMIME-Version: 1.0\n'
          b'Content-Type: multipart/mixed; boundary=n\n\n'
          b'--n\nContent-Type: application/octet-stream; name="report.pdf\x00.exe"\n\nMZ\n'
          b"--n\nContent-Type: application/octet-stream\n"
          b"Content-Disposition: attachment; filename*=utf-8''report.pdf%00.scr\n\nMZ\n--n--\n")


def main():
    clean_iso2022jp()
    clean_sjis()
    clean_eucjp()
    clean_utf8_qp()
    clean_alternative()
    clean_rfc2231()
    clean_rfc2047_filename()
    clean_forward()
    mal_samples()


if __name__ == '__main__':
    main()
