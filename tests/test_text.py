"""Text analysis (boilerplate, analyze, tokenize) and HTML to text."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings, strategies as st

from recommender._markup import html_to_text, looks_like_html
from recommender._text import analyze as _analyze, english_stop_words, strip_boilerplate, tokenize

ENGLISH_STOP_WORDS = english_stop_words()

BODY = "The storm hit the coast on Friday."


# ---------------------------------------------------------------- datelines
@pytest.mark.parametrize("dateline", [
    "HARBORVIEW, Calden (NWS) — ",
    "LONDON (Reuters) - ",
    "WASHINGTON — ",
    "PARIS, Oct. 3 (AFP) -- ",
    "NEW YORK (AP) – ",
    "SEOUL, South Korea (AP) — ",
    "  ST. JOHN'S, Newfoundland — ",
])
def test_dateline_removed_at_start(dateline):
    assert strip_boilerplate(dateline + BODY) == BODY
    assert strip_boilerplate(dateline + BODY + "\nSecond paragraph.") == BODY + "\nSecond paragraph."


@pytest.mark.parametrize("text", [
    "First paragraph.\nLONDON (Reuters) - Shares fell.",
    "Shares fell. LONDON (Reuters) - more text.",
    "Officials said WASHINGTON — and others — agreed.",
])
def test_dateline_only_removed_at_very_start(text):
    assert strip_boilerplate(text) == text


def test_dateline_after_removed_byline_is_first_line():
    assert strip_boilerplate("By Jane Doe\nLONDON (Reuters) - Shares fell.") == "Shares fell."


@pytest.mark.parametrize("text", [
    "The vote — delayed twice — finally passed.",
    "Prices rose 3-4% in the north-east - the most since 2020.",
    "Calden's mayor -- who took office in May -- resigned.",
    "In Calden – a port city – the strike ended.",
    "Rovers beat United 2-1 — a famous win.",
    "A storm - the worst in years - hit.",
])
def test_ordinary_sentences_with_dashes_kept(text):
    assert strip_boilerplate(text) == text
    assert strip_boilerplate("Intro.\n" + text) == "Intro.\n" + text


@pytest.mark.parametrize("text", [
    "US - China trade talks resume.",
    "NATO - the alliance - met on Friday.",
    "STORM HITS CALDEN - LIVE UPDATES",
])
def test_leading_acronym_with_dash_is_not_a_dateline(text):
    assert strip_boilerplate(text) == text


# ---------------------------------------------------------------- boilerplate lines
@pytest.mark.parametrize("line", [
    "Copyright 2026 NWS. All rights reserved.",
    "copyright (c) 2026 Calden Times",
    "© 2026 Calden Times",
    "(c) 2026 NWS",
    "All rights reserved.",
    "Related: Port strike ends after two weeks",
    "RELATED: more coverage",
    "Read more: Calden floods",
    "See also: earlier story",
    "Most read: everything else",
    "This article was updated on Monday to correct a name.",
    "This story has been corrected.",
    "By Jane Doe",
    "By Jane Doe, Staff Writer",
    "  By Mary-Ann O'Neil — Calden Times  ",
])
def test_boilerplate_lines_removed(line):
    assert strip_boilerplate(f"{BODY}\n{line}\nMore text.") == f"{BODY}\nMore text."
    assert strip_boilerplate(f"{line}\n{BODY}") == BODY


@pytest.mark.parametrize("text", [
    "By the end of the day, the port reopened.",
    "By Friday Calden had reopened the port, officials said on Saturday afternoon.",
    "Related stories are linked below the article.",
    "Prices fell by half, Jane Doe said.",
    "The band played Copyright 2026 on stage.",
])
def test_ordinary_paragraphs_kept(text):
    assert strip_boilerplate(f"{BODY}\n{text}") == f"{BODY}\n{text}"


def test_paragraph_about_copyright_kept():
    text = f"{BODY}\nCopyright lawsuits against AI firms doubled this year."
    assert strip_boilerplate(text) == text


def test_strip_boilerplate_docstring_example_and_edges():
    assert strip_boilerplate("HARBORVIEW, Calden (NWS) — The storm hit.\nCopyright 2026 NWS. All rights reserved.") == "The storm hit."
    assert strip_boilerplate("") == ""
    assert strip_boilerplate("By Jane Doe\nCopyright 2026") == ""


# ---------------------------------------------------------------- analyze / tokenize
def test_analysis_normalises_nfkc_and_lowercases():
    assert _analyze("ＣＡＬＤＥＮ Ｐｏｒｔ") == ["calden", "port"]
    assert _analyze("ﬁnance ① ２０２６") == ["finance", "2026"]
    assert _analyze("ＬＯＮＤＯＮ (Reuters) - Shares fell.") == ["shares", "fell"]  # normalised before stripping
    assert _analyze("By Jane Doe\nThe Port.") == ["the", "port"]


def test_tokenize_drops_stop_words_and_short_tokens():
    text = "the port of calden is a 2 x big port, a 1st-rate one; x y zz"
    assert tokenize(text, stop_words=ENGLISH_STOP_WORDS) == ["port", "calden", "big", "port", "1st", "rate", "zz"]
    assert tokenize("the port of a b") == ["the", "port", "of"]
    assert tokenize("the port strike ends", stop_words=ENGLISH_STOP_WORDS) == ["port", "strike", "ends"]
    assert tokenize("café naïve 東京 x_y") == ["café", "naïve", "東京", "x_y"]
    assert tokenize("", stop_words=ENGLISH_STOP_WORDS) == []


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_analysis_property(text):
    tokens = _analyze(text, stop_words=ENGLISH_STOP_WORDS)
    assert all(len(t) >= 2 and t not in ENGLISH_STOP_WORDS and t == t.strip() and t == t.lower() for t in tokens)



def _proper_nouns_by_match(text: str, weight: int, language: str) -> list[str]:
    """The rule stated plainly, one regex match at a time: a capitalised word that is not all
    capitals is repeated unless the three characters before it open a sentence."""
    import re

    from recommender._text import token_pattern

    tokens, names = [], []
    for match in token_pattern(language).finditer(text):
        word, start = match.group(), match.start()
        if word.lower() in ENGLISH_STOP_WORDS:
            continue
        tokens.append(word.lower())
        opens = re.search(r"[.!?:;\"'\u201c\u201d(\[\n]\s*$|^\s*$", text[max(0, start - 3):start])
        if word[0].isupper() and not word.isupper() and not opens:
            names.append(word.lower())
    return tokens + names * (weight - 1)


# ASCII words (the translate-and-split path) among separators beyond ASCII (dashes, quotes, spaces,
# a circled letter, a mark outside Hindi), and letters and marks beyond ASCII (the token pattern's path)
_RULE_ALPHABET = list("aAbBzZMcD_1 éÉİß .!?:;\"'\u201c\u201d([\n\t,-0\u0301\u0928\u094d\u2014\u2019\u2028\u24b6\u01c5")


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet=st.sampled_from(_RULE_ALPHABET), max_size=60),
       st.sampled_from([2, 3]), st.sampled_from(["en", "hi"]))
def test_proper_nouns_read_from_the_separators_match_the_rule_stated_per_match(text, weight, language):
    text = unicodedata.normalize("NFKC", text)
    assert _analyze(text, boilerplate=False, stop_words=ENGLISH_STOP_WORDS, proper_noun_weight=weight,
                    language=language) == _proper_nouns_by_match(text, weight, language)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(_RULE_ALPHABET), max_size=60), st.sampled_from(["en", "hi"]))
def test_unweighted_analysis_is_the_token_pattern_on_lower_case(text, language):
    text = unicodedata.normalize("NFKC", text)
    assert _analyze(text, boilerplate=False, stop_words=ENGLISH_STOP_WORDS, language=language) == tokenize(
        text.lower(), stop_words=ENGLISH_STOP_WORDS, language=language)


@pytest.mark.parametrize("language", ["en", "hi"])
def test_no_character_outside_a_word_lower_cases_into_one(language):
    """What lets ASCII-word text be split before it is lower-cased (``_ascii_words``): over all of
    Unicode, a character that cannot be in a token has no lower case that can."""
    import sys

    from recommender._text import token_pattern

    word = token_pattern(language)
    outside = [chr(point) for point in range(sys.maxunicode + 1) if not word.match(chr(point) * 2)]
    assert [c for c in outside if c.lower() != c and any(word.match(x * 2) for x in c.lower())] == []


@pytest.mark.parametrize("text, names", [
    ("Dock workers in Calden struck. Workers met Mayor Ilse Varga (Calden) at NATO.", 3),
    ("\u201cCalden\u201d said \u2014 Calden\u2019s port; x Calden \u2014Varga \u00a0Ilse iPhone McDonald A1b _Xy", 5),
])
def test_ascii_word_text_skips_the_token_pattern(text, names, monkeypatch):
    import recommender._text as text_module

    prepared = strip_boilerplate(unicodedata.normalize("NFKC", text))
    by_pattern = [text_module._analyze_by_pattern(prepared, ENGLISH_STOP_WORDS, weight, "en") for weight in (1, 2)]
    monkeypatch.setattr(text_module, "_analyze_by_pattern", None)  # the token pattern's path would now raise
    assert [_analyze(text, stop_words=ENGLISH_STOP_WORDS, proper_noun_weight=weight) for weight in (1, 2)] == by_pattern
    assert by_pattern[1].count("calden") == names


# ---------------------------------------------------------------- html_to_text
@pytest.mark.parametrize("markup, text", [
    ("<p>a</p><p>b</p>", "a\nb"),
    ("<p>Storm hits <em>Calden</em> &amp; coast</p><script>x()</script><p>More</p>", "Storm hits Calden & coast\nMore"),
    ("<div><script>if (a < b) { evil() }</script>kept</div>", "kept"),
    ("<style>p {color: red}</style><noscript>enable js</noscript><p>text</p>", "text"),
    ("<html><head><title>Site</title></head><body><p>body</p></body></html>", "body"),
    ("line one<br>line two<br/>line three", "line one\nline two\nline three"),
    ("<ul><li>one</li><li>two</li></ul>", "one\ntwo"),
    ("caf&eacute; &#233; &#xE9; &lt;tag&gt; &quot;q&quot; &nbsp;x", 'café é é <tag> "q" x'),
    ("<p>  spaced \t  out  </p>\n\n\n<p>next</p>", "spaced out\nnext"),
    ("<p>unclosed <b>bold", "unclosed bold"),
    ("<!-- comment --><p>text</p>", "text"),
    ("<p> </p>", ""),
    ("plain   text\n\n\nwith  lines  ", "plain text\nwith lines"),
    ("a < b and c > d", "a < b and c > d"),
    ("AT&T and R&D", "AT&T and R&D"),
])
def test_html_to_text(markup, text):
    assert html_to_text(markup) == text


def test_deeply_nested_html():
    assert html_to_text("<div>" * 100_000 + "deep" + "</div>" * 100_000) == "deep"
    assert html_to_text("<b>" * 50_000 + "x") == "x"


@pytest.mark.parametrize("text, expected", [
    ("<p>x</p>", True), ("a<br/>b", True), ("</div>", True), ("<!-- c -->", True),
    ("&amp;", True), ("&#39;", True), ("&#x27;", True),
    ("plain text", False), ("a < b > c", False), ("AT&T", False), ("& ;", False), ("5 <3", False),
])
def test_looks_like_html(text, expected):
    assert looks_like_html(text) is expected


@pytest.mark.parametrize("markup, text", [
    ("<p>AT&amp;amp;T</p>", "AT&amp;T"),
    ("<p>write &amp;lt;p&amp;gt; for a paragraph</p>", "write &lt;p&gt; for a paragraph"),
])
def test_entities_decoded_once(markup, text):
    assert html_to_text(markup) == text


@pytest.mark.parametrize("markup, text", [  # marked sections are dropped like any other <!...> declaration
    ("<p>a <![ b ]> c</p>", "a c"),
    ("<p>x<![foo[ y ]]></p>", "x"),
    ("<p>Use <![ x ]> here</p><script>evil()</script><p>&amp; more</p>", "Use here\n& more"),
])
def test_marked_section_does_not_raise(markup, text):
    assert html_to_text(markup) == text


_fragments = st.sampled_from([
    "<", ">", "</", "<!", "<![", "<!--", "-->", "[", "]", "&", ";", "#", "#x41", "amp", "lt", "nbsp", "p", "div", "br",
    "script", "style", " ", "\n", "\t", "\r", "\xa0", "=", '"', "'", "/", "a", "-", "?", "x", "CDATA",
])
_markupish = st.lists(_fragments, max_size=25).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), _markupish))
def test_html_to_text_never_raises_and_is_tidy(text):
    out = html_to_text(text)
    assert isinstance(out, str)
    assert out == out.strip() and "\n\n" not in out and "  " not in out and "\xa0" not in out
    # Full idempotence does not hold: "&lt;b&gt;x" -> "<b>x" -> "x" (decoded text can look like markup).
    # It does hold whenever the output no longer looks like HTML.
    if not looks_like_html(out):
        assert html_to_text(out) == out


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="<&"), max_size=200))
def test_html_to_text_plain_text_keeps_words(text):
    assert html_to_text(text).split() == text.replace("\xa0", " ").split()


def test_analyze_repeats_proper_nouns_but_not_sentence_openers():
    from recommender._text import analyze

    text = "Dock workers in Calden struck. Workers met Mayor Ilse Varga (Calden) at NATO."
    tokens = analyze(text, stop_words=ENGLISH_STOP_WORDS, proper_noun_weight=2)
    assert tokens.count("calden") == 3  # once doubled mid-sentence, once after "(" counted once
    assert tokens.count("dock") == 1 and tokens.count("workers") == 2  # sentence openers count once
    assert tokens.count("varga") == 2 and tokens.count("nato") == 1  # all capitals: an acronym, not a name
    assert analyze(text, stop_words=ENGLISH_STOP_WORDS) == tokenize(strip_boilerplate(unicodedata.normalize("NFKC", text)).lower(), stop_words=ENGLISH_STOP_WORDS)


# ---------------------------------------------------------------- StemCache
def _spied_stem_cache(**options):
    from recommender._text import StemCache

    cache = StemCache(**options)
    calls = []
    stem_words = cache._stem_words

    def spy(words):
        calls.append(list(words))
        return stem_words(words)

    cache._stem_words = spy
    return cache, calls


def test_stem_cache_stems_with_porter2():
    from recommender._text import StemCache

    stem = StemCache()
    assert stem.backend in ("PyStemmer", "snowballstemmer")
    assert stem(["strike", "strikes", "striking", "company", "companies", "generously", "calden", "2026"]) == [
        "strike", "strike", "strike", "compani", "compani", "generous", "calden", "2026"]
    assert stem([]) == []


def test_stem_cache_stems_each_distinct_word_once():
    stem, calls = _spied_stem_cache()
    assert stem(["strikes", "strikes", "port", "strikes"]) == ["strike", "strike", "port", "strike"]
    assert calls == [["strikes", "port"]]  # one batch, each unseen word once
    assert stem(["port", "strikes"]) == ["port", "strike"]
    assert calls == [["strikes", "port"]]  # all seen: no stemming at all
    assert stem(["ports", "port", "striking"]) == ["port", "port", "strike"]
    assert calls[-1] == ["ports", "striking"]  # only the unseen words
    assert len(stem) == 4


def test_stem_cache_is_bounded():
    stem, calls = _spied_stem_cache(max_size=3)
    assert stem(["ports", "strikes", "talks"]) == ["port", "strike", "talk"] and len(stem) == 3
    assert stem(["ships", "ports"]) == ["ship", "port"]  # over the bound: emptied, then refilled
    assert len(stem) == 1 and calls[-1] == ["ships"]
    assert stem(["a1", "b2", "c3", "d4", "ships"]) == ["a1", "b2", "c3", "d4", "ship"]  # a batch above the bound
    assert len(stem) <= 3
    from recommender.exceptions import InvalidOptionError
    from recommender._text import StemCache

    for bad in (0, -1, 1.5, True):
        with pytest.raises(InvalidOptionError):
            StemCache(max_size=bad)


def test_stem_cache_is_thread_safe():
    from concurrent.futures import ThreadPoolExecutor

    from recommender._text import StemCache

    words = [f"{stem}{suffix}" for stem in ("strik", "compan", "port", "talk", "ship")
             for suffix in ("e", "es", "ing", "ed")]
    expected = StemCache()(words)
    stem = StemCache(max_size=7)  # small: the memo keeps being emptied while other threads read it
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: stem(words[i % 5:] + words[:i % 5]), range(400)))
    assert all(result == expected[i % 5:] + expected[:i % 5] for i, result in enumerate(results))


def test_text_docstring_examples():
    import doctest

    from recommender import _text as text

    assert doctest.testmod(text).failed == 0


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aZ9_ -.'\u00e9\u0301\u0928\u094d\u00a0\n\u2019")), max_size=30))
def test_english_tokens_are_scikit_learns_default_tokens(text):
    import re

    from recommender._text import _token_splitter, token_pattern

    expected = re.findall(r"(?u)\b\w\w+\b", text)
    assert token_pattern("en").findall(text) == expected
    assert _token_splitter("en").split(text)[1::2] == expected  # the tokens analyze() reads
