"""Chinese/English segmentation through a private jieba tokenizer with the project's user dictionaries."""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from pathlib import Path

RESOURCES = Path(__file__).resolve().parent / "resources"
DEFAULT_USERDICT = RESOURCES / "userdict.txt"

_ASCII_WORD = re.compile(r"[a-z0-9]+(?:[.+#][a-z0-9+#]*)*")
_NOISE = re.compile(r"\b[a-z]{0,3}\d{3,}\b|&[a-z]+;|nbsp")  # requisition ids (J10139, 000574), HTML entities
_PUNCT = re.compile(r"[^\w+#./]+")


def normalise_title(title: str) -> str:
    """A title as the classifier sees it: width-folded, lower-cased, ids and punctuation removed.

    Unlike the dedupe key, bracketed qualifiers stay ("产品经理（数据方向）" differs from "产品经理").
    """
    text = unicodedata.normalize("NFKC", title).lower()
    text = _NOISE.sub(" ", text)
    text = _PUNCT.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()


_BRACKETED = re.compile(r"[（(【\[{<《][^）)】\]}>》]*[）)】\]}>》]")
_DECORATION = re.compile(
    r"高级|资深|初级|中级|实习生|实习|急招|急聘|诚聘|高薪|双休|五险一金|包吃住|校招|社招|应届生?|"
    r"北京|上海|广州|深圳|杭州|成都|南京|武汉|西安|苏州|天津|重庆|长沙|厦门|郑州|青岛|合肥|宁波|"
    r"\b(?:senior|junior|snr|sr|jr|lead|principal|graduate|trainee|intern|remote|hybrid|london|manchester|"
    r"birmingham|leeds|edinburgh|glasgow|bristol|contract|permanent|part time|full time|"
    r"i{1,3}|[0-9]+ month)\b")


def embedding_key(title: str) -> str:
    """The core of a title, the embedding cache key: no brackets, seniority, places or recruiting noise.

    "高级Java开发工程师（北京）" and "Java开发工程师-急招" share one embedding; the full title still feeds the
    word and character features, so the qualifiers are not lost.
    """
    text = unicodedata.normalize("NFKC", title).lower()
    text = _BRACKETED.sub(" ", text)
    core = normalise_title(_DECORATION.sub(" ", text))
    return core or normalise_title(title)


class Segmenter:
    """Word segmentation with a private ``jieba.Tokenizer`` (never the global one) and user dictionaries.

    Latin words ("java", "c++", "node.js") are kept whole; Chinese runs are cut by jieba.
    """

    def __init__(self, userdicts: tuple[Path, ...] = (DEFAULT_USERDICT,)) -> None:
        import jieba

        for path in userdicts:
            if not Path(path).exists():
                raise FileNotFoundError(f"jieba user dictionary not found: {path}")
        self.userdicts = tuple(Path(p) for p in userdicts)
        jieba.setLogLevel(logging.WARNING)
        self._tok = jieba.Tokenizer()
        self._lock = threading.Lock()
        with self._lock:
            self._tok.initialize()
            for path in self.userdicts:
                self._tok.load_userdict(str(path))

    def cut(self, text: str) -> list[str]:
        """Tokens of ``text`` (normalised, lower-cased), whitespace dropped."""
        text = unicodedata.normalize("NFKC", text).lower()
        out: list[str] = []
        for tok in self._tok.lcut(text, HMM=False):
            tok = tok.strip()
            if not tok:
                continue
            if tok.isascii():
                out.extend(_ASCII_WORD.findall(tok))
            elif not _PUNCT.fullmatch(tok):
                out.append(tok)
        return out

    def analyzer(self, text: str) -> list[str]:
        """scikit-learn analyzer: word unigrams and bigrams."""
        toks = self.cut(text)
        return toks + [f"{a} {b}" for a, b in zip(toks, toks[1:], strict=False)]
