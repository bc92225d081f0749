"""AI references in a posting: none, incidental, ai_tools or ai_skills, with the matched terms."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from labourwatch.contract import AI_LEVELS
from models.ai_context import clause_around
from models.sections import split_sections
from models.segment import CJK

if TYPE_CHECKING:
    from models.ai_context import AIContextModel, ContextPrediction
    from models.segment import Segmenter


class ContextReader(Protocol):
    """What the rules ask of the context model (``models.ai_context.AIContextModel``): its segmenter and its
    reading of clauses."""

    @property
    def segmenter(self) -> Segmenter: ...

    def predict(self, clauses: Sequence[str]) -> list[ContextPrediction]: ...

# The context model's reading may drop or demote a term the rules found only at this probability or above; for a
# mention the rules leave open its most likely reading is used (the alternative is a fixed guess).
CONTEXT_MIN_CONFIDENCE = 0.5

# \b is Unicode-aware, so "熟悉RAG" has no boundary before R; postings mix scripts, so use an ASCII one.
_ASCII_B = r"(?:(?<![A-Za-z0-9])(?=[A-Za-z0-9])|(?<=[A-Za-z0-9])(?![A-Za-z0-9]))"


# Beside a letter or digit of the pattern itself the boundary is one-sided, and a lookaround of one side is
# about three times faster to try at every position of a long alternation than the two-sided group.
_LEAD = r"(?<![A-Za-z0-9])"
_TRAIL = r"(?![A-Za-z0-9])"


def _rx(pattern: str, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    """``pattern`` compiled with ``\\b`` as an ASCII word boundary (one-sided where the pattern's next or previous
    character is a plain letter or digit)."""
    pattern = re.sub(r"(?<!\\)((?:\\\\)*)\\b(?=[A-Za-z0-9](?![?*]|\{0))", lambda m: m.group(1) + _LEAD, pattern)
    pattern = re.sub(r"(?<!\\)([A-Za-z0-9])\\b", lambda m: m.group(1) + _TRAIL, pattern)
    return re.compile(pattern.replace(r"\b", _ASCII_B), flags)


def _terms(other: str, words: str) -> re.Pattern[str]:
    """``other`` or one of ``words`` (an alternation whose every branch starts with a letter or digit) after an ASCII
    word boundary: the shared boundary is tried once per position instead of once per branch (8x faster on long
    English postings, the same matches)."""
    return _rx(f"{other}|{_LEAD}(?:{words})")


LEVEL_RANK = {level: rank for rank, level in enumerate(AI_LEVELS)}  # none < incidental < ai_tools < ai_skills


@dataclass(frozen=True)
class AIMention:
    """The AI level of a posting and the terms that decided it."""

    level: str
    terms: tuple[str, ...]

    @property
    def references_ai(self) -> bool:
        return self.level != "none"


# Building, training, integrating or evaluating AI/ML systems — also named ML techniques without "AI".
_SKILLS = _terms(
    r"机器学习|深度学习|神经网络|强化学习|迁移学习|联邦学习|自然语言处理|计算机视觉|图像识别|语音识别|语音合成|目标检测|"
    r"人脸识别|知识图谱|推荐算法|搜索算法|排序算法模型|CTR预估|大模型(?:微调|训练|算法|应用开发|开发|推理|部署|评测|评估)|"
    r"大语言模型|预训练模型|模型(?:微调|训练|蒸馏|量化|部署)|微调|检索增强|向量数据库|提示词工程|提示工程|智能体开发|"
    r"Agent开发|AI\s*Agent开发|多模态|聚类|协同过滤|决策树|随机森林|梯度提升|逻辑回归|支持向量机|朴素贝叶斯|"
    r"语音交互|智能语音|语音智能|AI训练师|模型评测|数据标注.{0,8}(?:模型|AI|算法)|"
    r"(?:评估|评测|打分|标注|审核|评分).{0,12}(?:大模型|AI|模型)的?(?:回答|输出|生成|回复)|"
    r"对(?:大模型|AI|模型).{0,10}(?:回答|输出|回复|生成内容).{0,8}(?:评估|评测|打分|标注|评分)",
    r"ASR\b|TTS\b|predictive model\w*|"
    r"machine[- ]learning\b|deep[- ]learning\b|neural (?:network|net)s?\b|NLP\b|natural language processing\b|"
    r"computer vision\b|LLMs?\b|large language models?\b|RAG\b|retrieval[- ]augmented\b|fine[- ]tun(?:e|ed|ing)\b|"
    r"prompt engineering\b|PyTorch\b|TensorFlow\b|Keras\b|scikit[- ]learn\b|sklearn\b|MLOps\b|"
    r"ML (?:models?|pipelines?|engineer(?:ing)?|systems?|ops|platform)\b|AI/ML\b|ML/AI\b|XGBoost\b|"
    r"LightGBM\b|GBDT\b|random forests?\b|decision trees?\b|collaborative filtering\b|"
    r"reinforcement learning\b|Hugging ?Face\b|LangChain\b|LlamaIndex\b|"
    r"vector (?:database|store)s?\b|transformer models?\b|BERT\b|AI trainer\b|model training\b|"
    r"(?:evaluat|annotat|rat|judg|scor|grad|compar)(?:e|es|ed|ing)\b.{0,30}\b(?:AI|LLM|model|chatbot)\b.{0,14}"
    r"\b(?:outputs?|responses?|answers?|replies|completions?)\b|"
    # evaluating an AI system is a skill even when the system is called a tool ("assess the safety of AI triage tools")
    r"(?:assess|assessing|evaluate|evaluating|validate|validating|audit|auditing)\b(?: (?!with\b|using\b|via\b|by\b)\w+){0,4}? "
    r"(?:AI|LLM|ML)(?:[- ]\w+){0,2}?[- ](?:tools?|systems?|models?|products?|applications?)\b|"
    # the same families in English words: learning settings, named model kinds and techniques, speech, vision and
    # language processing, the data made to train models, and the machinery of building with LLMs
    r"(?:un|semi-|self-)?supervised learning\b|representation learning\b|(?:few|zero)-shot\b|"
    r"LSTMs?\b|RNNs?\b|convolutional\b|autoencoders?\b|diffusion models?\b|neural (?:radiance|rendering)\b|"
    r"(?:foundation|generative|language|perception) models?\b|recommend(?:er|ation) (?:systems?|engines?|models?)\b|"
    r"gradient[- ]boost\w*|GBMs?\b|boosted trees\b|k-means\b|kmeans\b|k-nearest\b|naive Bayes\b|"
    r"support vector machines?\b|logistic regression\b|"
    r"(?:automatic )?speech recognition\b(?! (?:software|tools?|apps?)\b)|speech synthesis\b|"
    r"object detection\b|image (?:recognition|classification|segmentation)\b|(?:semantic|instance) segmentation\b|"
    r"OpenCV\b|YOLO\b|bounding boxes\b|"
    r"topic model(?:l)?ing\b|text (?:classification|mining)\b|NLU\b|NLG\b|"
    r"natural language (?:understanding|generation)\b|embeddings\b|spaCy\b|NLTK\b|"
    r"Dialogflow\b|training data(?:sets?)? (?:for|to train|to improve) (?:\S+ ){0,3}?(?:models?|algorithms?)\b|"
    r"RLHF\b|(?-i:Q?LoRA)(?![A-Za-z0-9])|vLLM\b|(?:function|tool) calling\b|feature stores?\b|"
    r"model (?:drift|serving|retraining)\b|MLflow\b|Kubeflow\b|Vertex AI\b|"
    r"Azure (?:OpenAI|ML|Machine Learning)\b|Copilot Studio(?-i:(?![a-z]))|"
    r"(?:OpenAI|Anthropic|Claude|Gemini|GPT-?\d\w*|LLM)(?:\W+\w+){0,2}?\W+APIs?\b"
)
# Techniques that are machine learning only in some clauses ("clustering" of BigQuery tables, "数据分级分类"):
# ai_skills by default, and the context model (when there is one) may say the clause is not about AI.
_AMBIGUOUS_SKILLS = _rx(r"\bclustering\b|\bclassification models?\b|\bclassifiers?\b|分类模型|分类算法|"
                        r"\bsentiment analysis\b|\bsemantic search\b")
# Using AI tools in the job.
_TOOLS = _terms(
    r"ChatGPT|GPT-?[345](?:o|\.5)?|Copilot|Midjourney|Stable ?Diffusion|DALL-?E|文心一言|通义千问|通义|Kimi|DeepSeek|豆包|"
    r"Claude|Gemini|ComfyUI|Runway|Sora|可灵|即梦|剪映AI|Notion AI|"
    r"AIGC工具|AI工具|AI绘画|AI绘图|AI生成|AI写作|AI辅助|AI提效|AI作图|AI设计|AI视频|AI剪辑",
    r"AI[- ]?(?:tools?|powered tools?|assistants?|assisted|generated)\b|AI coding\b|"
    # an AI tool named by what it does: "AI media monitoring software", "an ambient AI scribe", "AI image generators"
    r"AI(?:[- ](?!(?:is|are|was|were|be|been|will|would|can|could|may|might|has|have|had|in|on|of|to|for|the|a|an|"
    r"our|your|their|its|into|across|that|which|with|from|at|by|as|or|not)\b)[A-Za-z]+){0,3}?[- ]"
    r"(?:tools?|toolkits?|software|assistants?|scribes?|generators?)\b|"
    r"machine translation\b|DeepL\b|Otter\.ai\b|Fireflies\.ai\b|Perplexity\b|Synthesia\b|ElevenLabs\b|"
    r"Adobe Firefly\b|Generative Fill\b|speech recognition (?:software|tools?|apps?)\b"
)
# A bare mention of AI whose level depends on what surrounds it.
_GENERIC = _rx(r"AIGC|生成式AI|\bgenerative AI\b|\bGenAI\b|人工智能|(?<![A-Za-z])(?-i:AI)(?:(?![A-Za-z])|(?-i:(?=[A-Z][a-z]{2})))|\bA\.I\.|\bartificial intelligence\b|智能体|大模型|"
                      r"\bAI agents?\b|\bagentic\b")
_DESIGN_SOFTWARE = _rx(r"\bPS\b|Photoshop|\bCDR\b|Corel ?DRAW|Illustrator|InDesign|\bID\b|\bAE\b|After Effects|\bPR\b|"
                              r"Premiere|C4D|3D ?MAX|Sketch|Figma|\bCAD\b|Axure|\bXD\b|平面软件|设计软件|Adobe")
_REAL_AI_AFTER = _rx(r"\s*(?:绘|生成|工具|写作|辅助|技术|算法|模型|应用|产品|agent|智能|赋能|大模型|训练|"
                            r"tools?|models?|generated|powered|assisted)")
_BUILD_VERBS = _rx(r"开发|研发|训练|部署|集成|接入|搭建|落地|构建|优化|调优|架构|算法|工程师|评测|"
                          r"\b(?:build|building|develop|developing|train|training|deploy|deploying|integrat\w*|"
                          r"implement\w*|engineer\w*|architect|architecting|design and build|productioni[sz]e)\b")
_USE_VERBS = _rx(r"使用|运用|利用|借助|熟练|会用|善用|应用|提效|提升效率|\b(?:use|using|leverage|leveraging|utili[sz]\w*|"
                        r"proficien\w*|familiar\w*|hands-on with|adopt\w*)\b")
_SELL = r"\b(?:re)?sell(?:s|ing)?\b"  # a product the job sells: in incidental contexts and before a tool
_SELLING = _rx(_SELL + r"|\bdemo(?:s|nstrate|nstrates|nstrating)?\b")
_INCIDENTAL_CONTEXT = _rx(r"专业|学历|major|degree in|研究方向|兴趣|热爱|感兴趣|关注|interest|passion|curious|curiosity|面试|招聘|"
                                 + _SELL + r"|"
                                 r"recruit|hiring process|application process|screening|行业|赛道|industry|公司|企业(?!级)|"
                                 r"我们是|we are|our (?:company|mission|platform)|leading|驱动|powered company")
_COMPANY_NAME = _rx(r"(?:AI|人工智能|智能)[\u4e00-\u9fffA-Za-z]{0,8}(?:科技|技术|信息|网络|软件)?(?:股份)?有限公司|"
                           r"\bAI\s+(?:Ltd|Limited|Inc|LLC|GmbH|Corp)\b")
# Clauses end at sentence punctuation, line breaks and list numbers ("…工作2.参与…", "… 3) …"; not "3.5年"), also at a
# full stop glued to the next sentence where a board dropped the space ("…research platform.You will …").
_CLAUSE = _rx(r"[。；;！!？?\n]|(?<=[A-Za-z0-9)])\.\s+|(?-i:(?<=[a-z)])\.(?=[A-Z][a-z]))|\s\d+[、.．)]|(?<=[\u4e00-\u9fff：:；;。])\d{1,2}[、.．](?!\d)")


def _is_illustrator(text: str, m: re.Match[str]) -> bool:
    """True when a bare 'AI' is Adobe Illustrator: listed beside other design software, or '(AI)' after it."""
    if m.group(0).upper() != "AI":
        return False
    if _REAL_AI_AFTER.match(text, m.end()):
        return False
    window = text[max(0, m.start() - 25) : m.end() + 25]
    return bool(_DESIGN_SOFTWARE.search(window))


def _in_company_name(text: str, m: re.Match[str]) -> bool:
    for c in _COMPANY_NAME.finditer(text):
        if c.start() <= m.start() < c.end():
            return True
    return False


# Scraped pages write hyphens as U+2010/U+2011 ("AI‑assisted"): the patterns spell them "-".
_HYPHENS = str.maketrans({"\u2010": "-", "\u2011": "-", "\u2012": "-"})
# AI as the adjective of a product, market or era ("AI-driven decisions", "AI-native competitors", "the AI
# economy") or as a vision ("the future of AI") describes the company or its world, not what the job does.
_DESCRIBING_AFTER = _rx(r"\s*-\s*(?:driven|native|first|led|centric|focused|powered|enabled|based|backed|infused|ready)\b|"
                       r"\s+(?:economy|era|revolution|age|compan(?:y|ies)|firms?|start-?ups?|scale-?ups?|labs?|sector|"
                       r"industry|market|landscape|ecosystem|summit|conference|regulation|act|polic(?:y|ies)|"
                       r"workloads?|chips?|hardware|PCs?|devices?|data cent(?:re|er)s?|adoption|hack ?days?|"
                       r"hackathons?)\b")
# Only these words may stand between a verb and the mention it governs ("use the AI-driven forecasts", "build new
# AI-powered features"); "building capacity for AI workloads" has a noun in between.
_VERB_TAIL = _rx(r"(?:\s+(?:a|an|the|our|your|their|its|new|custom|internal|in-house|existing|and|or|of|with|to|on|"
                 r"more|these|those|such))*\s*$")
# AI as a trend in the world the job watches ("how AI is reshaping software", "the shift toward agentic AI") or an
# attitude to it ("takes AI seriously"): not what the job does.
_TREND = _rx(r"\bhow (?:agentic |generative )?(?:AI|A\.I\.|artificial intelligence) (?:is|are|will|could|can) "
             r"(?:be )?(?:reshap|chang|transform|disrupt|shap|redefin|revolutioni[sz])\w*|"
             r"\b(?:shift|move|transition|pivot)s? (?:to|toward|towards) (?:agentic |generative )?(?-i:AI)|"
             r"\b(?:take|takes|taking) (?-i:AI) seriously\b|\b(?:impact|implications|effects?) of (?:agentic |generative )?"
             r"(?:AI|artificial intelligence)\b")
_LABEL_CHARS = 40  # a label opening a clause ("AI Integration:") is at most this long
_NEAR_CHARS = 25  # how far before a mention its own verb is looked for
_VISION = _rx(r"\b(?:future|power|potential|promise|age|rise) of (?:AI|A\.I\.|artificial intelligence|generative AI|GenAI)\b")
# AI put to work in the job's own routine: using it, even when a build verb is nearby ("integrating AI into how
# you work", "AI in your daily workflow").
_OWN_WORK = _rx(r"\b(?:into|in) (?:how you work|the way you work|your (?:daily |day-to-day )?(?:work|workflows?|routine))\b|"
                r"\bin your workflow\b")
_HIRING = _rx(r"面试|招聘流程|简历筛选|\b(?:application|hiring|recruitment|interview|selection) process\b|"
              r"\breviewing applications\b|\bscreening\b")
# ML named as another team's work that this job only feeds or supports: "算法团队的机器学习模块将会使用这些数据".
_OTHER_TEAM = _rx(r"(?:算法|数据科学|AI|人工智能|机器学习)(?:团队|组|部门)的|\b(?:data science|ML|AI|machine learning) "
                  r"team'?s\b|"
                  # a platform or data the job builds that serves ML elsewhere ("platforms that support machine learning")
                  r"\b(?:that|which) (?:support|supports|power|powers|feed|feeds|enable|enables|fuel|fuels) "
                  r"(?:\w+ ){0,3}(?:machine learning|ML|AI)\b")
# AI that someone other than the job uses ("a company whose products use AI", "we use AI across the suite"): the
# use verb's subject is not the job.
_OTHERS_USE = _rx(r"\b(?:we|whose \w+|(?:products?|platforms?|solutions?|services?|systems?|apps?|software|"
                  r"technolog(?:y|ies)|compan(?:y|ies)|firms?|businesses|clients?|customers?|organi[sz]ations?)"
                  r"(?: (?:that|which|who))?)(?: already| now| increasingly)? (?:use|uses|leverage|leverages|harness|"
                  r"harnesses|adopt|adopts|apply|applies|deploy|deploys|embed|embeds)\s*$")
# AI as what the job's figures are about ("the adoption of our AI features", "the footprint of AI clusters").
_MEASURE_OF = _rx(r"\b(?:adoption|usage|uptake|take-up|spend|costs?|energy use|energy|footprint|emissions|revenue|"
                  r"sales) of (?:\w+ ){0,2}?$")
# Build and train words whose object is people or business, not AI ("build relationships", "train operators").
_SOFT_BUILD = _rx(r"\b(?:build|builds|building|develop|develops|developing|train|trains|training)\b "
                  r"(?:(?!(?-i:AI)\b|ML\b|machine\b|models?\b)\w+ ){0,2}?"
                  r"(?:relationships?|rapport|partnerships?|networks?|trust|business|careers?|capacity|teams?|talent|"
                  r"skills|knowledge|confidence|awareness|staff|colleagues|operators|users|new starters|customers|"
                  r"clients|people|employees|advisers|advisors)\b|\btraining (?:sessions?|courses?|programmes?|"
                  r"programs?|budget|provided|given|webinars?)\b|\b(?:full|paid|ongoing|on-the-job) training\b")
_COMPANY_VOICE = _rx(r"我们|本公司|公司|集团|平台是|\b(?:we|we're|we are|our|us|headquartered|founded in)\b")
_JOB_VOICE = _rx(r"你|您|负责|要求|熟悉|掌握|精通|具备|优先|经验|\b(?:you|your|must|required|requirements?|experience|"
                 r"responsib\w*|skills?|tasks?|duties|(?:expected|required) to)\b|"
                 # the same words glued to the item before them where a board dropped the line break
                 r"(?-i:(?<=[a-z])(?:Experience|You|Your|Must|Required|Requirements?|Responsib[a-z]*|Skills?)(?![a-z]))")
# An unheaded sentence that opens with a verb in the imperative is a duty ("Build and maintain our bot …"), even
# when it says "our"; "Join …" / "Discover …" invite the reader and stay out.
_DUTY_START = _rx(r"^[\s\-–•*·>]*(?:use|build|design|develop|create|write|draft|produce|manage|lead|coach|train|support|"
                  r"deliver|own|run|plan|prepare|maintain|review|monitor|analy[sz]e|evaluate|rate|rank|judge|label|"
                  r"annotate|test|deploy|integrate|implement|apply|assess|validate|configure|tune|fine-tune|probe|"
                  r"process|handle|resolve|take|record|research|report|provide|ensure|collaborate|partner|identify|"
                  r"optimi[sz]e|automate|document|conduct|carry out|assist|liaise|edit|upload|transcribe|tag|draw|"
                  r"define|forecast|segment|teach|champion|roll out|set up|stand up|keep|verify|track|improve|measure|"
                  r"collect|organi[sz]e|prioriti[sz]e|spot|call|add|model|generate|summari[sz]e|translate|post-edit|"
                  r"retouch|prototype|ship|sell)\b")


_MODEL_NAMES = _rx(r"^(?:LLMs?|large language models?)$")


def _is_label(text: str) -> bool:
    """A heading-like label: a few capitalised words ("AI Integration", "Industry Knowledge & AI Fluency"), not a
    sentence ("Experience building AI products")."""
    words = text.split()
    return 0 < len(words) <= 5 and all(w[0].isupper() or not w[0].isalpha() or len(w) <= 3 for w in words)


def _after_label(clause: str, at: int) -> tuple[str, int]:
    """The clause without a short label that opens it ("AI Integration: leverage AI tools …", "AI Comfort: …"):
    a label names a topic, what it introduces says what the job does with it. Returns (the text, the mention's
    offset in it; -1 when the mention is in the label)."""
    colon = clause.find(":")
    if 0 <= colon <= _LABEL_CHARS and _is_label(clause[:colon]):
        return clause[colon + 1:], (at - colon - 1 if at > colon else -1)
    return clause, at


def _used_as_tool(clause: str, m: re.Match[str]) -> bool:
    """An LLM named beside AI tools that the job uses ("using AI tools (Cursor, Copilot, LLMs) to write code"),
    with no word of building one nearby (a label the clause opens with does not count: "AI Integration: …")."""
    if not _MODEL_NAMES.match(m.group(0).strip()):
        return False
    text, _ = _after_label(clause, m.start())
    return bool(_TOOLS.search(text) and _USE_VERBS.search(text) and not _BUILD_VERBS.search(text))


def _verb_right_before(clause: str, at: int) -> str | None:
    """ai_tools / ai_skills when a use / build verb governs the mention at ``at`` with only articles, possessives
    and small words between ("use the AI-driven forecasts", "build new AI-powered features"); else None."""
    head = clause[max(0, at - 2 * _NEAR_CHARS):at]
    tail = _VERB_TAIL.search(head)
    words = head[:tail.start() if tail else len(head)].split()
    if not words:
        return None
    last = words[-1]
    if _USE_VERBS.fullmatch(last):
        return "ai_tools"
    if last.lower() in ("train", "trains", "training"):
        return None  # "training on AI tools" is teaching people, "train AI models" names its models
    if _BUILD_VERBS.fullmatch(last) or last.lower() in ("development", "creation"):
        return "ai_skills"
    return None


def _job_voice(clause: str) -> bool:
    """The clause speaks of the job: its words ("you", "experience", "tasks") or a duty in the imperative."""
    return bool(_JOB_VOICE.search(clause) or _DUTY_START.match(clause))


def _near_cue(clause: str, at: int) -> str | None:
    """The verb right before a mention, within its comma-delimited part ("including the use of AI", "build AI
    features"): ai_skills for a build verb, ai_tools for a use verb, None when neither is there."""
    window = re.split(r"[,，、(（]", clause[max(0, at - _NEAR_CHARS):at])[-1]
    if _BUILD_VERBS.search(window):
        return "ai_skills"
    if _USE_VERBS.search(window):
        return "ai_tools"
    return None


def _generic_level(clause: str, at: int = -1) -> str | None:
    """The level of a bare AI mention in the job's own text from the words around it; None when no cue decides.
    ``at``: the mention's offset in the clause (-1: unknown); a use verb right before it ("the use of AI") decides
    over a build word elsewhere in a long clause."""
    clause, at = _after_label(clause, at)
    if at >= 0 and clause.count("|") >= 2:
        # a line of pipe-separated keywords ("Data Engineer | Azure | AI & Analytics"): the mention's own item
        start = clause.rfind("|", 0, at) + 1
        end = clause.find("|", at)
        clause, at = clause[start:end if end >= 0 else len(clause)], at - start
    clause = _SOFT_BUILD.sub(lambda b: " " * len(b.group(0)), clause)  # same length: offsets stay true
    if _HIRING.search(clause) or _VISION.search(clause) or _TREND.search(clause):
        return "incidental"
    if at >= 0 and (_OTHERS_USE.search(clause, max(0, at - 2 * _NEAR_CHARS), at)
                    or _MEASURE_OF.search(clause, max(0, at - 2 * _NEAR_CHARS), at)):
        return "incidental"
    if _INCIDENTAL_CONTEXT.search(clause) and not _USE_VERBS.search(clause):
        return "incidental"
    if _OWN_WORK.search(clause):
        return "ai_tools"
    if at >= 0 and _near_cue(clause, at) == "ai_tools":
        return "ai_tools"
    if _BUILD_VERBS.search(clause):
        return "ai_skills"
    if _USE_VERBS.search(clause):
        return "ai_tools"
    return None


# Generic mentions that can mean something else ("AI" files, a "大模型" of a part, "agents" who are people);
# "人工智能", "artificial intelligence" and "generative AI" always mean AI.
_VETOABLE = _rx(r"^(?:(?-i:AI)|A\.I\.|大模型|智能体|AI agents?|agentic)$")


def _cjk_whole_word(clause: str, m: re.Match[str], context: ContextReader | None) -> bool:
    """A Chinese term must be whole jieba words: "智能体育场馆" is 智能/体育场馆, not the AI term 智能体."""
    if context is None or not CJK.search(m.group(0)):
        return True
    bounds = {0, len(clause)}
    for a, b in context.segmenter.spans(clause):
        bounds.add(a)
        bounds.add(b)
    return m.start() in bounds and m.end() in bounds


# Postings where "LLM" is the Master of Laws and "AI" artificial insemination.
_LEGAL = _rx(r"\b(?:law|laws|legal|solicitors?|barristers?|paralegals?|LLB|PQE|SRA|LPC|SQE|conveyancing|litigation|"
             r"chambers)\b")
_LIVESTOCK = _rx(r"\b(?:cows?|cattle|herds?|heifers?|calving|calves|dairy|livestock|insemination|semen|sows|ewes|"
                 r"bulls?|tupping|farrowing)\b")
_MODEL_AFTER = _rx(r"[\s-]*(?:s\b|based|powered|driven|models?|applications?|apps?|agents?|features?|products?|"
                   r"tools?|APIs?|ops|engineer)")


def _not_meant(clause: str, m: re.Match[str], traps: frozenset[str]) -> bool:
    """A term that means something else in this posting: "an LLM" in a legal posting is a law degree, a bare "AI"
    on a farm is artificial insemination (unless what follows makes it a model or a tool)."""
    word = m.group(0).strip()
    if "legal" in traps and word == "LLM":
        return not _MODEL_AFTER.match(clause, m.end())
    if "livestock" in traps and word == "AI":
        return not _REAL_AI_AFTER.match(clause, m.end())
    return False


def _traps(text: str) -> frozenset[str]:
    """Which of the other meanings ``text`` (title and description) makes possible."""
    out = set()
    if "LLM" in text and _LEGAL.search(text):
        out.add("legal")
    if "AI" in text and _LIVESTOCK.search(text):
        out.add("livestock")
    return frozenset(out)


def _scan(text: str, in_job: bool, found: dict[str, str], body: bool = False,
          context: ContextReader | None = None, traps: frozenset[str] = frozenset()) -> None:
    """Add the terms in ``text`` with their level to ``found`` (term → highest level)."""

    def add(term: str, level: str) -> None:
        if LEVEL_RANK[level] > LEVEL_RANK.get(found.get(term, "none"), 0):
            found[term] = level

    def ask(clause: str, m: re.Match[str]) -> ContextPrediction | None:
        if context is None:
            return None
        return context.predict([clause_around(clause, m.start(), m.end())])[0]

    def sure(pred: ContextPrediction | None, label: str) -> bool:
        return pred is not None and pred.label == label and pred.confidence >= CONTEXT_MIN_CONFIDENCE

    for clause in _CLAUSE.split(text):
        if not clause.strip() or not _may_mention(clause):
            continue
        job = in_job
        # Unheaded text in the company's voice ("我们在自然语言处理方面有长期积累") is a blurb, not a duty.
        if body and _COMPANY_VOICE.search(clause) and not _job_voice(clause):
            job = False
        if job and _OTHER_TEAM.search(clause):
            job = False
        # Unheaded text that is not in the job's voice either may be a blurb without a heading.
        unsure = job and body and not _job_voice(clause)
        spans: list[tuple[int, int]] = []
        for rx, level in ((_SKILLS, "ai_skills"), (_TOOLS, "ai_tools"), (_AMBIGUOUS_SKILLS, "ai_skills")):
            for m in rx.finditer(clause):
                if any(a <= m.start() < b for a, b in spans):
                    continue
                if _in_company_name(clause, m) or _not_meant(clause, m, traps):
                    continue
                spans.append((m.start(), m.end()))
                term_level = level if job else "incidental"
                if job and rx is _SKILLS and _used_as_tool(clause, m):
                    term_level = "ai_tools"
                if job and rx is _TOOLS and _SELLING.search(clause, max(0, m.start() - 2 * _NEAR_CHARS), m.start()):
                    term_level = "incidental"  # a tool the job sells, not one it uses
                elif job and rx is _TOOLS and _verb_right_before(clause, m.start()) == "ai_skills":
                    term_level = "ai_skills"  # "build internal AI tools", "the development of AI-driven tools"
                if job and (unsure or rx is _AMBIGUOUS_SKILLS):
                    pred = ask(clause, m)
                    if rx is _AMBIGUOUS_SKILLS and sure(pred, "not_ai"):
                        continue
                    if unsure and sure(pred, "incidental"):
                        term_level = "incidental"
                add(m.group(0).strip(), term_level)
        for m in _GENERIC.finditer(clause):
            if any(a <= m.start() < b for a, b in spans):
                continue
            if _is_illustrator(clause, m) or _in_company_name(clause, m) or not _cjk_whole_word(clause, m, context) \
                    or _not_meant(clause, m, traps):
                continue
            term = m.group(0).strip()
            reading: str | None = "incidental"
            if job and _DESCRIBING_AFTER.match(clause, m.end()):
                # AI as the adjective of a product or its world: incidental, unless a verb governs it
                reading = _verb_right_before(clause, m.start()) or "incidental"
            elif job:
                reading = _generic_level(clause, m.start())
            if reading is None:
                # No cue in the words around it: the context model's reading decides (a term that can mean
                # something else is dropped only on a confident not_ai); without a model it counts as incidental.
                pred = ask(clause, m)
                reading = "incidental"
                if sure(pred, "not_ai") and _VETOABLE.match(term):
                    continue
                if pred is not None and pred.label != "not_ai":
                    reading = pred.label
            add(term, reading)


# Cheap pre-filter: most postings and most clauses mention none of these, and need no closer reading. It must
# match every term the patterns above can match (a test checks their literal alternatives). Written in lower
# case and matched against the lower-cased text: six times faster than the same alternation with IGNORECASE.
_ANY = re.compile(r"ai|a\.i\.|人工智能|智能|大模型|模型|学习|神经|自然语言|视觉|识别|检测|语音|图谱|算法|微调|检索|向量|提示|标注|评测|"
                  r"多模态|梯度|ctr|asr|tts|chatbot|"
                  r"聚类|协同过滤|决策树|随机森林|回归|贝叶斯|gpt|copilot|midjourney|diffusion|dall|文心|通义|kimi|deepseek|"
                  r"豆包|claude|gemini|comfyui|runway|sora|可灵|即梦|machine|deep|neural|nlp|natural language|vision|llm|"
                  r"language model|rag|retrieval|fine|prompt|torch|tensorflow|keras|scikit|sklearn|mlops|ml|xgboost|"
                  r"lightgbm|gbdt|forest|tree|filtering|clustering|classif|分类|reinforcement|hugging|langchain|"
                  r"llamaindex|vector|transformer|bert|model|artificial|agent|generative|supervised|representation|"
                  r"-shot|lstm|rnn|convolutional|autoencoder|boost|gbm|k-means|kmeans|k-nearest|bayes|support vector|"
                  r"regression|speech|detection|image|segmentation|opencv|yolo|bounding|topic model|text mining|nlu|"
                  r"nlg|embeddings|semantic|spacy|nltk|dialogflow|training data|rlhf|lora|calling|feature store|"
                  r"kubeflow|translation|deepl|perplexity|synthesia|elevenlabs|firefly|"
                  r"sentiment|recommend|anthropic")


def _may_mention(text: str) -> bool:
    """True when ``text`` may name AI (the pre-filter; a false True costs only time)."""
    return _ANY.search(text.lower()) is not None


_TOOL_ROLES = _rx(r"设计|美工|运营|编辑|文案|内容|剪辑|视频|插画|原画|客服|销售|\b(?:designer|artist|copywriter|editor|"
                  r"writer|content|marketing|marketer|illustrator|sales|support|video)\b")


def detect_ai(title: str | None, description: str | None = None,
              context: ContextReader | None = None) -> AIMention:
    """The AI level of a posting from its title and description, reading which section each mention is in.

    Skills (building/training/evaluating AI, ML techniques) > tools (using AI tools) > incidental (company
    blurb, benefits, majors, interest, hiring notices) > none. Adobe Illustrator, 'AI' inside other tokens and
    company names are not references. With a ``context`` model (the classifier artifact's), the clauses the
    rules leave open are read by it and Chinese terms must be whole jieba words; without one, such mentions
    count as incidental.
    """
    if not _may_mention(title or "") and not _may_mention(description or ""):
        return AIMention("none", ())
    title = title.translate(_HYPHENS) if title else title
    description = description.translate(_HYPHENS) if description else description
    found: dict[str, str] = {}
    traps = _traps(f"{title or ''}\n{description or ''}")
    if title:
        t_found: dict[str, str] = {}
        _scan(title, True, t_found, context=context, traps=traps)
        for term, level in t_found.items():
            # A title naming AI is about the job itself: "AI产品经理" or "Lead AI Engineer" builds or integrates
            # AI, "AIGC设计师" or "AI内容运营" uses it.
            if level == "incidental":
                level = "ai_tools" if _TOOL_ROLES.search(title) else "ai_skills"
            found[term] = level
    for section in split_sections(description):
        _scan(section.text, section.is_job, found, body=section.kind == "body", context=context, traps=traps)
    if not found:
        return AIMention("none", ())
    level = max(found.values(), key=LEVEL_RANK.__getitem__)
    terms = tuple(sorted(found, key=lambda t: (-LEVEL_RANK[found[t]], t)))
    return AIMention(level, terms)


class _Deferring:
    """The context model during a batch's first reading: clauses it has read before are answered from its memo;
    the others are noted and answered with a reading that is never sure (the posting is read again)."""

    def __init__(self, model: AIContextModel) -> None:
        self.model = model
        self.asked: list[str] = []

    @property
    def segmenter(self) -> Segmenter:
        return self.model.segmenter

    def predict(self, clauses: Sequence[str]) -> list[ContextPrediction]:
        from models.ai_context import ContextPrediction

        out = []
        for clause in clauses:
            known = self.model.known(clause)
            if known is None:
                self.asked.append(clause)
                known = ContextPrediction("not_ai", 0.0)
            out.append(known)
        return out


def detect_ai_batch(postings: Sequence[tuple[str | None, str | None]],
                    context: AIContextModel | None = None) -> list[AIMention]:
    """``detect_ai`` of each (title, description), the same readings, with the clauses the context model must read
    asked together: a first reading notes the clauses it has not read, they are read in one call, and the
    postings that needed them are read again. One clause at a time, each cost a whole block of the embedding
    engine's products (11 calls, 2.2 s of 11.4, in the warm pass of `bench classify` on a CPU with AVX2 only)."""
    if context is None:
        return [detect_ai(title, description) for title, description in postings]
    first = _Deferring(context)
    out: list[AIMention] = []
    again: list[int] = []
    for i, (title, description) in enumerate(postings):
        asked = len(first.asked)
        out.append(detect_ai(title, description, context=first))
        if len(first.asked) > asked:
            again.append(i)
    if first.asked:
        context.predict(first.asked)
    for i in again:
        out[i] = detect_ai(*postings[i], context=context)
    return out
