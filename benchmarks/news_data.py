"""Rebuild real, labelled multi-outlet news corpora as article JSONL, from public repository snapshots.

The corpora are third-party article text: they are never committed. This script rebuilds them
into a scratch folder from local git snapshots (bare or working repositories) of:

=================  ===============================================  ============================
corpus             repository (folder)                              labels
=================  ===============================================  ============================
NewsWCL50          ``Luisgarchi/NewsWCL50`` (``1-raw-articles/``)   10 events x 5 outlets
WikiRef220         ``dpacassi/dynamic-event-detection-in-data-streams``
                   (``app/data_processing/test_data/wikiref/``)     16 topics (Wikipedia pages)
ECB+               ``tommasoc80/EventStoryLine`` (``ECB+_LREC2014/``) 85 events in 43 topics, each
                                                                    topic two events of one kind
Reuters-21578      ``Arthur-sauvage/Reuter`` (``data/``)            single-topic articles; real
                                                                    1987 dates (distractors)
GVA                ``cltl/LongTailQATask`` (``EventRegistries/      gun-violence incidents of the
                   GunViolenceArchive/the_violent_corpus/``)        Gun Violence Archive, 1-17
                                                                    local outlets each; real dates
=================  ===============================================  ============================

Usage::

    python benchmarks/news_data.py --newswcl PATH --wikiref PATH --ecbplus PATH --reuters PATH [--gva PATH] --out DIR

Each output line: ``id, title, body, published_at`` (ISO 8601 with zone; one fixed date per
corpus where the source has none), ``event`` and/or ``topic`` labels, and ``source``.
``benchmarks/bench_relevance.py`` scores every system on them.
"""

from __future__ import annotations

import argparse
import datetime
import html
import io
import json
import pickle
import re
import subprocess
from collections import defaultdict
from pathlib import Path


def git_ls(gitdir: str, prefix: str) -> list[str]:
    out = subprocess.run(["git", "--git-dir", gitdir, "ls-tree", "-r", "--name-only", "HEAD", "--", prefix],
                         check=True, capture_output=True).stdout.decode()
    return [line for line in out.splitlines() if line]


def git_show(gitdir: str, path: str) -> bytes:
    return subprocess.run(["git", "--git-dir", gitdir, "show", f"HEAD:{path}"], check=True, capture_output=True).stdout


def decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def write(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{path.name}: {len(rows)} articles")


def newswcl(gitdir: str) -> list[dict]:
    """NewsWCL50: 10 events x 5 outlets (LL, L, M, R, RR). No title line, no dates in the raw files."""
    rows = []
    for path in git_ls(gitdir, "1-raw-articles/"):
        m = re.match(r"1-raw-articles/event_(\d+)/\d+_([A-Z]+)\.txt", path)
        if not m:
            continue
        text = decode(git_show(gitdir, path)).strip()
        paras = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
        rows.append({"id": f"wcl-{m[1]}-{m[2]}", "title": "", "body": "\n\n".join(paras),
                     "published_at": "2018-06-01T12:00:00+00:00", "event": f"wcl-{m[1]}", "topic": f"wcl-{m[1]}",
                     "source": m[2]})
    return rows


def wikiref(gitdir: str) -> list[dict]:
    """WikiRef220: 220 web news articles cited by 16 Wikipedia pages; label = page (topic in file name).
    First line is the headline."""
    rows = []
    for path in git_ls(gitdir, "app/data_processing/test_data/wikiref/WikiRef220/"):
        name = path.rsplit("/", 1)[1]
        m = re.match(r"(.+?)(?:\.(\d+)| \((\d+)\))\.txt$", name)
        if not m:
            continue
        label = m[1].lower().replace("parisattacks2015", "paris.attacks.2015")
        text = decode(git_show(gitdir, path)).replace("\r", "")
        lines = text.strip().split("\n", 1)
        title, body = lines[0].strip(), (lines[1].strip() if len(lines) > 1 else "")
        rows.append({"id": f"wr-{len(rows):03d}", "title": title, "body": body,
                     "published_at": "2016-01-01T12:00:00+00:00", "event": label, "topic": label, "source": name})
    return rows


MONTHS = {m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())}


def reuters(gitdir: str) -> list[dict]:
    """Reuters-21578: articles with exactly one TOPICS label and a body; real 1987 timestamps."""
    rows = []
    for path in git_ls(gitdir, "data/"):
        if not path.endswith(".sgm"):
            continue
        sgm = git_show(gitdir, path).decode("latin-1")
        for doc in re.findall(r"<REUTERS(.*?)</REUTERS>", sgm, flags=re.S):
            newid = re.search(r'NEWID="(\d+)"', doc)[1]
            topics = re.findall(r"<D>(.*?)</D>", re.search(r"<TOPICS>(.*?)</TOPICS>", doc, re.S)[1])
            title = re.search(r"<TITLE>(.*?)</TITLE>", doc, re.S)
            body = re.search(r"<BODY>(.*?)</BODY>", doc, re.S)
            date = re.search(r"<DATE>\s*(\d+)-([A-Z]+)-(\d+) (\d+):(\d+):(\d+)", doc)
            if len(topics) != 1 or not title or not body or not date:
                continue
            body_text = html.unescape(body[1]).replace("Reuter\n&#3;", "").replace("&#3;", "")
            body_text = re.sub(r"\s*Reuter\s*$", "", body_text.strip())
            body_text = re.sub(r"\n\s+", "\n", body_text)
            if len(body_text.split()) < 20:
                continue
            d, mon, y, hh, mm, ss = date.groups()
            stamp = f"{int(y):04d}-{MONTHS[mon]:02d}-{int(d):02d}T{int(hh):02d}:{int(mm):02d}:{int(ss):02d}+00:00"
            rows.append({"id": f"reu-{newid}", "title": html.unescape(title[1]).strip(), "body": body_text,
                         "published_at": stamp, "topic": topics[0], "event": None, "source": "reuters"})
    return rows


def ecb_text(xml: str) -> tuple[str, str]:
    sentences: dict[int, list[str]] = defaultdict(list)
    for sent, tok in re.findall(r'<token [^>]*sentence="(\d+)"[^>]*>(.*?)</token>', xml):
        sentences[int(sent)].append(html.unescape(tok))
    texts = []
    for k in sorted(sentences):
        s = " ".join(sentences[k])
        s = re.sub(r" ([,.;:!?)\]'%])", r"\1", s)
        s = re.sub(r"([(\[$]) ", r"\1", s)
        s = s.replace(" n't", "n't").replace(" 's", "'s")
        if s.startswith("http") or s.startswith("www"):
            continue  # the URL line of ECB+ articles
        texts.append(s)
    if not texts:
        return "", ""
    return texts[0], " ".join(texts[1:])


def ecbplus(gitdir: str) -> list[dict]:
    """ECB+: 43 topics, each two events of the same kind (ecb and ecbplus sub-topics). No dates."""
    rows = []
    for path in git_ls(gitdir, "ECB+_LREC2014/ECB+/"):
        m = re.search(r"/(\d+)/(\d+)_(\d+)(ecb|ecbplus)\.xml$", path)
        if not m:
            continue
        title, body = ecb_text(decode(git_show(gitdir, path)))
        if not body:
            continue
        rows.append({"id": f"ecb-{m[2]}-{m[3]}{m[4]}", "title": title, "body": body,
                     "published_at": "2012-01-01T12:00:00+00:00", "event": f"ecb-{m[2]}-{m[4]}",
                     "topic": f"ecb-{m[2]}", "source": "ecb+"})
    return rows


class _NewsItem:
    """Stand-in for the pickled ``classes.NewsItem`` of the GVA corpus (attributes only)."""


class _NewsItemReader(pickle.Unpickler):
    """Reads the GVA documents (pickles named ``.json``) allowing only the two classes they hold,
    so a crafted file cannot run code."""

    def find_class(self, module: str, name: str):
        if (module, name) == ("classes", "NewsItem"):
            return _NewsItem
        if (module, name) == ("datetime", "date"):
            return datetime.date
        raise pickle.UnpicklingError(f"GVA documents hold no {module}.{name}")


def _strip_site(title: str) -> str:
    """Drop a trailing outlet name ("... - WKRN News 2", "... | Fox 8"): it marks the outlet, not the event."""
    head, sep, tail = max(title.rpartition(" - "), title.rpartition(" | "), key=lambda part: len(part[0]))
    return head.strip() if sep and head and len(tail.split()) <= 6 else title.strip()


def gva(gitdir: str) -> list[dict]:
    """GVA: news reports of Gun Violence Archive incidents (the documents of SemEval-2018 task 5), one
    folder per incident; label = incident. Every incident is a shooting in the US, so the other
    incidents are events of the same kind; incidents with one report stay in as distractors."""
    rows = []
    for path in git_ls(gitdir, "EventRegistries/GunViolenceArchive/the_violent_corpus/"):
        m = re.search(r"/the_violent_corpus/(\d+)/([0-9a-f]+)\.json$", path)
        if not m:
            continue
        item = _NewsItemReader(io.BytesIO(git_show(gitdir, path))).load()
        body, title = str(getattr(item, "content", "") or ""), _strip_site(str(getattr(item, "title", "") or ""))
        dct = getattr(item, "dct", None)
        if len(body.split()) < 20 or not isinstance(dct, datetime.date):
            continue
        body = re.sub(r"\n\s*\n+", "\n\n", body).strip()
        rows.append({"id": f"gva-{m[1]}-{m[2][:8]}", "title": title, "body": body,
                     "published_at": f"{dct.isoformat()}T12:00:00+00:00", "event": f"gva-{m[1]}",
                     "topic": "gva", "source": str(getattr(item, "uri", ""))})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--newswcl")
    ap.add_argument("--wikiref")
    ap.add_argument("--reuters")
    ap.add_argument("--ecbplus")
    ap.add_argument("--gva")
    ap.add_argument("--out", default="artifacts/news", help="output folder (default: artifacts/news)")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    if a.newswcl:
        write(out / "newswcl50.jsonl", newswcl(a.newswcl))
    if a.wikiref:
        write(out / "wikiref220.jsonl", wikiref(a.wikiref))
    if a.reuters:
        write(out / "reuters.jsonl", reuters(a.reuters))
    if a.ecbplus:
        write(out / "ecbplus.jsonl", ecbplus(a.ecbplus))
    if a.gva:
        write(out / "gva.jsonl", gva(a.gva))


if __name__ == "__main__":
    main()
