#!/usr/bin/env python3
"""Prepares the real-text corpus and the evaluation sets from the files gensim's wheel ships.

Usage: prepare_corpus.py OUT_DIR

Writes (idempotent; skipped when present):
  OUT_DIR/wiki.txt               one Wikipedia article per line, tokens separated by spaces
  OUT_DIR/wordsim353.tsv         WordSim-353 (word pairs with human similarity)
  OUT_DIR/simlex999.txt          SimLex-999
  OUT_DIR/questions-words.txt    Google analogy questions

Tokenisation is gensim's WikiCorpus: wiki markup removed, lower-cased, alphabetic tokens of
2 to 15 characters (gensim.utils.tokenize), so the worker's whitespace split reads it as is.
"""
import os
import shutil
import sys

from gensim.corpora.wikicorpus import WikiCorpus
from gensim.test.utils import datapath

WIKI = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
EVAL = ["wordsim353.tsv", "simlex999.txt", "questions-words.txt"]


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
