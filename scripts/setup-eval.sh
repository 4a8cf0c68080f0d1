#!/usr/bin/env bash
# System and packaging steps of the `eval` extra, run by scripts/_venv.sh when that extra is asked
# for (and usable by hand: `scripts/setup-eval.sh [VENV]`). Idempotent and quick when done.
#
# 1. WordNet 3.0 for nltk's METEOR, offline and reproducible: Debian's `wordnet-base` (data, index
#    and exception files) and `wordnet-sense-index` (index.sense) are copied into
#    $VENV/nltk_data/corpora/wordnet, a folder nltk searches by itself (sys.prefix/nltk_data). The
#    `lexnames` file nltk also reads is not shipped as a file by Debian; it is generated from the
#    table of Debian's lexnames(5WN) manual page of the same package.
# 2. The `rouge` package (release ROUGE) and `rouge-chinese` both install a top-level `rouge/`
#    folder; whichever pip installs last wins. If `rouge/` does not hold the files that the `rouge`
#    distribution's RECORD lists, `rouge` is reinstalled so that both packages import correctly.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-$ROOT/.venv}"
PYBIN="$VENV/bin/python"
WN_SRC=/usr/share/wordnet
WN_DST="$VENV/nltk_data/corpora/wordnet"
WN_FILES="adj.exc adv.exc noun.exc verb.exc cntlist.rev data.adj data.adv data.noun data.verb
index.adj index.adv index.noun index.verb index.sense"
LEXNAMES_MAN=/usr/share/man/man5/lexnames.5WN.gz

install_debian_wordnet() {
  local missing=0
  for f in $WN_FILES; do [ -s "$WN_SRC/$f" ] || missing=1; done
  [ -s "$LEXNAMES_MAN" ] || missing=1
  [ "$missing" = 0 ] && return 0
  echo "[echo-cxr] installing WordNet 3.0 from Debian (wordnet-base, wordnet-sense-index)" >&2
  export DEBIAN_FRONTEND=noninteractive
  # man pages are often excluded by minimal images; the lexnames page is needed, so allow it.
  local opts=(-y -q --no-install-recommends -o Dpkg::Options::=--path-include=/usr/share/man/man5/lexnames*)
  apt-get install "${opts[@]}" wordnet-base wordnet-sense-index >&2 \
    || { apt-get update -q >&2 && apt-get install "${opts[@]}" wordnet-base wordnet-sense-index >&2; }
  if [ ! -s "$LEXNAMES_MAN" ]; then  # installed before without its man page: reinstall
    apt-get install "${opts[@]}" --reinstall wordnet-base >&2
  fi
}

write_lexnames() {
  # Rows of the manual page's table: "NN<TAB>pos.name<TAB>description"; the third column of
  # lexnames is WordNet's syntactic category number (noun 1, verb 2, adj 3, adv 4).
  zcat "$LEXNAMES_MAN" | awk -F'\t' '
    /^[0-9][0-9]\t[a-z]+\.[A-Za-z]+/ {
      name = $2; gsub(/ /, "", name); split(name, part, ".");
      cat = (part[1] == "noun") ? 1 : (part[1] == "verb") ? 2 : (part[1] == "adj") ? 3 : 4;
      printf "%s\t%s\t%d\n", $1, name, cat }' > "$1"
  [ "$(wc -l < "$1")" = 45 ] || { echo "[echo-cxr] could not read lexnames from $LEXNAMES_MAN" >&2; exit 1; }
}

setup_wordnet() {
  [ -s "$WN_DST/lexnames" ] && [ -s "$WN_DST/index.sense" ] && return 0
  install_debian_wordnet
  mkdir -p "$WN_DST.tmp"
  for f in $WN_FILES; do cp "$WN_SRC/$f" "$WN_DST.tmp/$f"; done
  write_lexnames "$WN_DST.tmp/lexnames"
  rm -rf "$WN_DST" && mv "$WN_DST.tmp" "$WN_DST"
  echo "[echo-cxr] WordNet 3.0 ready in $WN_DST" >&2
}

repair_rouge_shadowing() {
  "$PYBIN" - <<'PY' && return 0
import base64, hashlib, sys
from importlib import metadata
try:
    dist = metadata.distribution("rouge")
except metadata.PackageNotFoundError:
    sys.exit(0)  # not installed: nothing to repair
for entry in dist.files or []:
    if entry.parts[0] == "rouge" and entry.hash is not None:
        data = entry.locate().read_bytes() if entry.locate().exists() else b""
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        if digest != entry.hash.value:
            sys.exit(1)
PY
  version="$("$PYBIN" -c 'from importlib import metadata; print(metadata.version("rouge"))')"
  echo "[echo-cxr] rouge-chinese shadowed the rouge package; reinstalling rouge==$version" >&2
  "$PYBIN" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "rouge==$version" >&2
}

setup_wordnet
repair_rouge_shadowing
