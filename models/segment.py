"""Chinese/English segmentation through a private jieba tokenizer with the project's user dictionaries."""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable
from functools import lru_cache
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


CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")  # a Chinese character
# English boards decorate a role with pay, places, contract terms, clearance, grades and reference numbers.
_EN_PAY = re.compile(
    r"(?:\b(?:up to|upto|to|from|c\.|circa)\s*)?[£$€]\s?\d[\d,.]*\s?k?"
    r"(?:\s*(?:-|–|to)\s*[£$€]?\s?\d[\d,.]*\s?k?)?|[£$€]\s?(?:base|basic|neg\w*|competitive|tbc|attractive)\b"
    r"|\b\d{2,3}(?:\.\d)?k\b|\b\d+(?:\.\d+)?\s?(?:per|p/|/)\s?(?:annum|hour|hr|day|h|d)\b"
    r"|\b(?:per annum|per hour|per day|per week|per month|p\.?a\.?|p\/h|ph|hourly|pro rata|doe|neg|negotiable|ote|"
    r"day rate|competitive salary|salary)\b"
    r"|\+\s*(?:bonus|benefits|car|equity|shares|package)|\b(?:plus )?(?:bonus|benefits|car allowance)\b")
_EN_NOISE = re.compile(
    r"\b(?:ref(?:erence)?|job id|req(?:uisition)?(?: id)?|vacancy(?: no)?)\b\.?\s*(?:no\.?|number|#)?\s*:?\s*"
    r"[a-z0-9/_-]*\d[a-z0-9/_-]*"
    r"|#\s?\d+|\b[a-z]{0,4}[-_/]?\d{4,}[a-z0-9-]*\b|\b\d{4,}\b"
    r"|\b(?:m|f|w|d|x)\s?/\s?(?:m|f|w|d|x)(?:\s?/\s?(?:m|f|w|d|x))?\b"
    r"|\b(?:grade|band|level|lvl|scale)\s?[0-9]+[a-z]?\b|\b(?:nhs )?afc band \d\b"
    r"|\b(?:sc|dv|npv\d?|bpss|security)\s?(?:clearance|cleared|clearable|eligible)(?: (?:essential|required|needed|preferred))?\b"
    r"|\b(?:sc|dv)\b|\b(?:fully |100% |part(?:ly)? |mostly )?(?:remote|hybrid|on-?site|in office|office based|wfh|"
    r"home based|home-based|work from home|flexible working|flexible)\b(?: (?:working|first|option|available|role))?"
    r"|\b(?:permanent|perm|temporary|temp|contract|contractor|fixed[ -]term|ftc|freelance|interim|"
    r"maternity cover|mat cover|secondment|part[ -]time|full[ -]time|outside ir35|inside ir35|ir35|"
    r"immediate start|urgent(?:ly)?|hiring now|apply now|start asap|asap|nights|night shift|days|day shift|"
    r"weekends?|evenings|rotating shifts|4 on 4 off|mon-fri|monday to friday)\b"
    r"|\b\d+\s?-?\s?(?:months?|mths?|weeks?|days?|hours?|hrs?)\b(?: (?:contract|ftc|role|initially|rolling))?"
    r"|\b(?:uk|united kingdom|england|scotland|wales|northern ireland|gb|emea|europe|nationwide|various locations|"
    r"multiple locations|london|city of london|manchester|birmingham|leeds|liverpool|sheffield|bristol|newcastle|"
    r"nottingham|leicester|coventry|reading|oxford|cambridge|milton keynes|southampton|portsmouth|brighton|"
    r"cardiff|swansea|edinburgh|glasgow|aberdeen|dundee|belfast|york|bath|exeter|plymouth|norwich|ipswich|"
    r"derby|stoke|wolverhampton|bradford|hull|sunderland|middlesbrough|preston|bolton|warrington|chester|"
    r"crewe|stockport|salford|luton|watford|slough|guildford|basingstoke|swindon|gloucester|cheltenham|"
    r"northampton|peterborough|cambridgeshire|surrey|kent|essex|sussex|hampshire|berkshire|yorkshire|"
    r"lancashire|midlands|west midlands|east midlands|north west|north east|south west|south east|home counties|"
    r"canary wharf|wembley|croydon|stratford|near|nr|based in|based|location|us|usa|new york|nyc|"
    r"san francisco|chicago|boston|austin|seattle|dublin|amsterdam|berlin|paris|singapore|hong kong)\b")
# Separators between a role and its qualifiers: " - ", " – ", "|", ",", ";", " / ", ": ", and brackets.
_EN_SEPARATORS = re.compile(r":\s+|\s+[-–—]+\s*|\s*[-–—]+\s+|\s*[|,;•·]\s*|\s*[–—]\s*|\s+/\s*|\s*/\s+|[()\[\]{}]")
# A person named first, then what the job is for or with: "tendering engineer for data centres", "quant
# researcher with strong statistics" (the words after "for"/"with"/"at" qualify the role).
_EN_FOR_WITH = re.compile(
    r"^(.*?\b(?:engineer|developer|analyst|scientist|researcher|manager|consultant|specialist|designer|architect|"
    r"officer|technician|administrator|assistant|coordinator|executive|director|advisor|adviser|associate|"
    r"programmer|tester|writer|planner|buyer|accountant|lead)s?)\s+(?:for|with|at|within|supporting)\s+(.+)$")
# A bracket inside the role, followed by more of the role's words: "security operations (soc) engineer".
_EN_INLINE_BRACKET = re.compile(r"[(\[]([^()\[\]]{1,30})[)\]](?=\s*[a-z])")
# Words that name a job: the segment holding one is the role; the others qualify it.
_EN_HEAD = re.compile(
    r"\b(?:engineer|engineering|developer|development|dev|programmer|analyst|analytics|scientist|architect|"
    r"manager|management|designer|design|consultant|specialist|officer|administrator|administration|"
    r"assistant|coordinator|co-ordinator|lead|leader|head|director|executive|technician|tech|operative|operator|"
    r"driver|nurse|teacher|lecturer|tutor|accountant|controller|auditor|advisor|adviser|partner|owner|"
    r"master|coach|agent|representative|rep|clerk|receptionist|secretary|worker|practitioner|therapist|"
    r"psychologist|doctor|surgeon|physician|pharmacist|chef|cook|waiter|waitress|bartender|barista|cleaner|"
    r"porter|tester|writer|editor|producer|researcher|modeller|modeler|planner|buyer|negotiator|surveyor|"
    r"draftsman|draughtsman|electrician|plumber|carpenter|welder|fabricator|mechanic|machinist|picker|packer|"
    r"handler|trader|actuary|bookkeeper|recruiter|solicitor|paralegal|counsel|lawyer|intern|internship|"
    r"apprentice|apprenticeship|graduate|trainee|integrator|evaluator|annotator|rater|labeller|support|dba|sre|"
    r"devops|ceo|cto|cfo|coo|cio|cdo|cashier|attendant|housekeeper|carer|supervisor|superintendent|"
    r"inspector|estimator|instructor|trainer|assessor|investigator|underwriter|broker|banker|economist|"
    r"statistician|strategist|steward|guard|courier|rider|loader|sorter|labourer|installer|fitter|"
    r"professor|fellow|associate|president|vp|owner|chief|founder|expert|generalist|helpdesk|desk|"
    r"midwife|paramedic|dentist|optometrist|radiographer|physiotherapist|vet|veterinary|pilot|"
    r"marketer|marketing|sales|accounting|finance|payroll|hr|recruitment|architecture|science)s?\b")
_EN_RANK_ONLY = re.compile(
    r"^(?:(?:senior|sr|junior|jr|executive|assistant|associate|deputy|vice|president|vp|svp|evp|avp|md|"
    r"director|principal|officer|analyst|manager|lead|leader|team lead|team leader|head|staff|specialist|consultant|"
    r"expert|professional|graduate|trainee|intern|new|role|job|opportunity|"
    r"opportunities|position|vacancy|talent|emerging|programme|program|scheme|and|&|of|the|a|an|i|ii|iii|iv|"
    r"l\d|c)\s*)+$")


def _en_clean(segment: str) -> str:
    text = _EN_PAY.sub(" ", segment)
    text = _EN_NOISE.sub(" ", text)
    text = re.sub(r"^[\s&+/:.-]+|[\s&+/:.-]+$", "", re.sub(r"\s+", " ", text))
    return text if re.search(r"[a-z]", text) else ""


@lru_cache(maxsize=100_000)  # boards repeat titles; features and the embedding key both ask
def title_parts(title: str) -> tuple[str, str]:
    """(role, qualifiers) of a title.

    English boards put the role first and qualifiers after separators ("Scrum Master – Data, Azure",
    "Senior Data Engineer - Remote - £70k", "Data Engineer (Hybrid) Ref 1234"): the role is the first segment
    that names a job (a segment of ranks only, "Vice President", gives way to one that names the job), pay,
    places, contract terms, clearance and reference numbers are dropped, the other segments are qualifiers.
    Titles with Chinese characters are returned whole (their decorations are handled by ``embedding_key``).
    """
    text = unicodedata.normalize("NFKC", title).lower().replace("&amp;", "&")
    if CJK.search(text):
        return title, ""
    text = _EN_INLINE_BRACKET.sub(r" \1 ", text)
    segments: list[str] = []
    for part in (_en_clean(p) for p in _EN_SEPARATORS.split(text) if p):
        m = _EN_FOR_WITH.match(part)
        segments.extend([m.group(1), m.group(2)] if m else [part] if part else [])
    if not segments:
        return title, ""
    named = [i for i, s in enumerate(segments) if _EN_HEAD.search(s)]
    jobs = [i for i in named if not _EN_RANK_ONLY.match(segments[i])]
    pick = jobs[0] if jobs else named[0] if named else 0
    return segments[pick], " ".join(s for i, s in enumerate(segments) if i != pick)


def embedding_key(title: str) -> str:
    """The core of a title, the embedding cache key: no brackets, seniority, places or recruiting noise.

    "高级Java开发工程师（北京）" and "Java开发工程师-急招" share one embedding; the full title still feeds the
    word and character features, so the qualifiers are not lost. English titles are cut to their role
    segment first (``title_parts``): "Scrum Master – Data, Azure" embeds as "scrum master".
    """
    title = title_parts(title)[0]
    text = unicodedata.normalize("NFKC", title).lower()
    text = _BRACKETED.sub(" ", text)
    core = normalise_title(_DECORATION.sub(" ", text))
    return core or normalise_title(title)


def pretokenized(tokens: list[str]) -> list[str]:
    """Identity analyzer for scikit-learn: documents arrive already segmented (the segmenter is persisted
    separately, so the fitted vectorizers pickle without the jieba tokenizer)."""
    return tokens


class Segmenter:
    """Word segmentation with a private ``jieba.Tokenizer`` (never the global one) and user dictionaries.

    Latin words ("java", "c++", "node.js") are kept whole; Chinese runs are cut by jieba.
    """

    BLOCK_CACHE_SIZE = 200_000  # distinct text blocks whose tokens are kept (boards repeat their phrasing)

    def __init__(self, userdicts: tuple[Path, ...] = (DEFAULT_USERDICT,)) -> None:
        import jieba

        # jieba cuts each run of its own block pattern independently: the same block always gives the same words
        self._blocks_re = jieba.re_han_default
        self._block_cache: OrderedDict[str, list[str]] = OrderedDict()
        self.block_hits = 0
        self.block_misses = 0

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
        """Tokens of ``text`` (normalised, lower-cased), whitespace dropped.

        The same words as ``jieba.Tokenizer.lcut(text, HMM=False)`` with the filter below, computed block by
        block (the runs of jieba's block pattern, which it cuts independently) with the tokens of each block
        memoised: descriptions repeat their boilerplate clauses, so most blocks are looked up, not cut.
        """
        text = unicodedata.normalize("NFKC", text).lower()
        out: list[str] = []
        for i, part in enumerate(self._blocks_re.split(text)):
            if not part:
                continue
            if i % 2:  # a block (split() with one group: blocks at odd positions)
                toks = self._block_cache.get(part)
                if toks is None:
                    self.block_misses += 1
                    toks = self._filter(self._tok.lcut(part, HMM=False))
                    self._block_cache[part] = toks
                    if len(self._block_cache) > self.BLOCK_CACHE_SIZE:
                        self._block_cache.popitem(last=False)
                else:
                    self.block_hits += 1
                out.extend(toks)
            else:  # between blocks jieba yields each character (whitespace runs whole): punctuation, symbols
                out.extend(self._filter(part))
        return out

    @staticmethod
    def _filter(tokens: Iterable[str]) -> list[str]:
        out: list[str] = []
        for tok in tokens:
            tok = tok.strip()
            if not tok:
                continue
            if tok.isascii():
                out.extend(_ASCII_WORD.findall(tok))
            elif not _PUNCT.fullmatch(tok):
                out.append(tok)
        return out

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of each jieba word in ``text`` as written (offsets into ``text``, no normalisation)."""
        return [(a, b) for _, a, b in self._tok.tokenize(text, HMM=False)]

    def analyzer(self, text: str) -> list[str]:
        """scikit-learn analyzer: word unigrams and bigrams."""
        toks = self.cut(text)
        return toks + [f"{a} {b}" for a, b in zip(toks, toks[1:], strict=False)]
