#!/usr/bin/env python3
"""Prepares the real-text corpus and the evaluation sets from the files gensim's wheel ships.

Usage: prepare_corpus.py OUT_DIR

Writes (idempotent; skipped when present):
  OUT_DIR/wiki.txt               one Wikipedia article per line, tokens separated by spaces
  OUT_DIR/wordsim353.tsv         WordSim-353 (word pairs with human similarity)
  OUT_DIR/simlex999.txt          SimLex-999
  OUT_DIR/questions-words.txt    Google analogy questions
  OUT_DIR/gcide.txt              GCIDE (Debian dict-gcide), one dictionary entry per line,
                                 tokenised like wiki.txt (when the package is installed)

Tokenisation is gensim's WikiCorpus: wiki markup removed, lower-cased, alphabetic tokens of
2 to 15 characters (gensim.utils.tokenize), so the worker's whitespace split reads it as is.
"""
import gzip
import os
import re
import shutil
import sys

from gensim.corpora.wikicorpus import WikiCorpus
from gensim.test.utils import datapath
from gensim.utils import tokenize

WIKI = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
EVAL = ["wordsim353.tsv", "simlex999.txt", "questions-words.txt"]
GCIDE = "/usr/share/dictd/gcide.dict.dz"
# Pronunciation between backslashes and [...] etymology/sources are dropped; {word} keeps word.
PRONUNCIATION = re.compile(r"\\[^\\\n]*\\")
BRACKETS = re.compile(r"\[[^\]]*\]")
# Character codes: [oe] and [ae] ligatures, an accent and one letter (["e], [=a], [.a]).
LIGATURE = re.compile(r"\[(oe|ae|OE|AE)\]")
ACCENTED = re.compile(r"\[[\"=.^`'~,\-]([A-Za-z])\]")
OTHER_CODE = re.compile(r"\[[^\]\s]{1,6}\]")


def wiki_tokens(text):
    """The tokens WikiCorpus keeps: lower-cased alphabetic, 2 to 15 characters."""
    return [
        t
        for t in tokenize(text, lower=True, errors="ignore")
        if 2 <= len(t) <= 15 and not t.startswith("_")
    ]


def gcide_entries(path):
    """The dictionary's entries (the licence header skipped), each as one string."""
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
        started, entry = False, []
        for line in f:
            if not started:
                if not line.startswith("A \\A\\"):
                    continue
                started = True
            if line.strip() and not line[0].isspace() and entry:
                yield " ".join(entry)
                entry = []
            entry.append(line.strip())
        if entry:
            yield " ".join(entry)


def prepare_gcide(out):
    dst = os.path.join(out, "gcide.txt")
    if os.path.exists(dst) or not os.path.exists(GCIDE):
        return
    tmp = dst + ".tmp"
    tokens = 0
    with open(tmp, "w", encoding="utf-8") as f:
        for entry in gcide_entries(GCIDE):
            text = PRONUNCIATION.sub(" ", entry)
            text = ACCENTED.sub(r"\1", LIGATURE.sub(r"\1", text))
            text = BRACKETS.sub(" ", OTHER_CODE.sub(" ", text))
            words = wiki_tokens(text.replace("{", " ").replace("}", " "))
            if words:
                tokens += len(words)
                f.write(" ".join(words) + "\n")
    os.replace(tmp, dst)
    print(f"wrote {dst}: {tokens} tokens", file=sys.stderr)


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name in EVAL:
        dst = os.path.join(out, name)
        if not os.path.exists(dst):
            shutil.copyfile(datapath(name), dst)
    prepare_gcide(out)
    dst = os.path.join(out, "wiki.txt")
    if os.path.exists(dst):
        return 0
    wiki = WikiCorpus(datapath(WIKI), dictionary={}, processes=1)
    tmp = dst + ".tmp"
    tokens = 0
    with open(tmp, "w", encoding="utf-8") as f:
        for text in wiki.get_texts():
            tokens += len(text)
            f.write(" ".join(text) + "\n")
    os.replace(tmp, dst)
    print(f"wrote {dst}: {tokens} tokens", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
