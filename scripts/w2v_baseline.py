#!/usr/bin/env python3
"""Reference baselines for `bittensor-worker bench --vs-gensim` and the embedding experiment.

  w2v_baseline.py gensim CORPUS OUT DIM WINDOW NEGATIVE MIN_COUNT SAMPLE ALPHA MIN_ALPHA EPOCHS SEED [WORKERS]
      trains gensim Word2Vec (skip-gram, WORKERS worker threads, default 1) on CORPUS (one sentence a line), saves the
      vectors to OUT in word2vec text format and prints one JSON line: words, seconds, cpu_seconds, vocab.
  w2v_baseline.py pairs VECTORS FILE
      prints gensim's evaluate_word_pairs of a word2vec text file as JSON.
  w2v_baseline.py analogies VECTORS FILE
      prints gensim's evaluate_word_analogies of a word2vec text file as JSON.
"""
import json
import sys
import time


def train(args):
    from gensim.models import Word2Vec
    from gensim.models.word2vec import LineSentence

    corpus, out = args[0], args[1]
    dim, window, negative, min_count = (int(x) for x in args[2:6])
    sample, alpha, min_alpha = (float(x) for x in args[6:9])
    epochs, seed = int(args[9]), int(args[10])
    workers = int(args[11]) if len(args) > 11 else 1
    sentences = LineSentence(corpus)
    model = Word2Vec(vector_size=dim, window=window, negative=negative, min_count=min_count,
                     sample=sample, alpha=alpha, min_alpha=min_alpha, epochs=epochs, seed=seed,
                     sg=1, hs=0, workers=workers)
    model.build_vocab(sentences)
    start, cpu = time.perf_counter(), time.process_time()
    model.train(sentences, total_examples=model.corpus_count, epochs=epochs)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    model.wv.save_word2vec_format(out)
    print(json.dumps({"words": model.corpus_total_words * epochs, "seconds": seconds,
                      "cpu_seconds": cpu,
                      "vocab": len(model.wv)}))


def pairs(args):
    from gensim.models import KeyedVectors

    kv = KeyedVectors.load_word2vec_format(args[0])
    pearson, spearman, oov = kv.evaluate_word_pairs(args[1])
    print(json.dumps({"pearson": float(pearson[0]), "spearman": float(spearman[0]),
                      "oov_percent": float(oov)}))


def analogies(args):
    from gensim.models import KeyedVectors

    kv = KeyedVectors.load_word2vec_format(args[0])
    score, sections = kv.evaluate_word_analogies(args[1])
    total = sections[-1]
    print(json.dumps({"accuracy": float(score),
                      "questions": len(total["correct"]) + len(total["incorrect"])}))


def main():
    commands = {"gensim": train, "pairs": pairs, "analogies": analogies}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    commands[sys.argv[1]](sys.argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
