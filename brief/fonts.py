"""Find a CJK font on the system and cache subsets of it cut to the characters a brief needs."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# Characters that must render for a font to count as a Chinese font.
_PROBE = "中文岗位同比"
_SUBSET_VERSION = "1"  # bump when the subsetting options change, so old cache files are not reused
INSTALL_HINT = (
    "Install Debian's fonts-noto-cjk (apt-get install fonts-noto-cjk) or point LABOURWATCH_BRIEF_FONT "
    "(and optionally LABOURWATCH_BRIEF_FONT_BOLD) at a TTF/OTF/TTC font with Chinese glyphs."
)


class FontError(RuntimeError):
    """No usable CJK font, or a font that lacks characters the brief needs."""


@dataclass(frozen=True)
class FontFace:
    """One face of a font file (``index`` selects the face inside a .ttc collection)."""

    path: Path
    index: int
    family: str
    bold: bool


@dataclass(frozen=True)
class BriefFonts:
    """The faces a brief is set in: a regular and a bold face (the same one when no bold exists)."""

    regular: FontFace
    bold: FontFace


@dataclass(frozen=True)
class SubsetFonts:
    """Subset font files (OpenType) holding only the characters of one brief, plus their family name."""

    regular: Path
    bold: Path
    family: str


def _covers(face: FontFace, text: str = _PROBE) -> bool:
    from fontTools.ttLib import TTFont

    try:
        font = TTFont(face.path, fontNumber=face.index, lazy=True)
        cmap = font.getBestCmap() or {}
        font.close()
    except Exception:  # an unreadable or unsupported file is simply not a candidate
        return False
    return all(ord(ch) in cmap for ch in text)


def _rank(family: str) -> tuple[int, int, int]:
    """Lower is better: simplified-Chinese sans faces first, monospaced and serif faces last."""
    fam = family.lower()
    return (
        0 if (" sc" in fam or "sc " in fam or fam.endswith("sc") or "simplified" in fam or "hans" in fam) else 1,
        0 if "sans" in fam or "hei" in fam else 1,
        1 if "mono" in fam else 0,
    )


def _fontconfig_candidates() -> list[tuple[FontFace, int]]:
    """Faces fontconfig says support simplified Chinese, with their fontconfig weight."""
    exe = shutil.which("fc-list")
    if exe is None:
        return []
    try:
        out = subprocess.run(
            [exe, ":lang=zh-cn", "-f", "%{file}|%{index}|%{family[0]}|%{weight}\n"],
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("fc-list failed (%s); falling back to matplotlib's font list", exc)
        return []
    faces = []
    for line in out.splitlines():
        parts = line.split("|")
        if len(parts) != 4 or not parts[0]:
            continue
        file, index, family, weight = parts
        try:
            w = int(float(weight))
            idx = int(index or 0)
        except ValueError:
            continue
        faces.append((FontFace(Path(file), idx, family, w >= 180), w))
    return faces


def _matplotlib_candidates() -> list[tuple[FontFace, int]]:
    """Faces matplotlib knows whose names suggest CJK coverage (used where fontconfig is missing)."""
    from matplotlib import font_manager

    markers = ("cjk", "han sans", "hei", "wenquanyi", "droid sans fallback", "source han", "song", "kai", "ming")
    out = []
    for entry in font_manager.fontManager.ttflist:
        if any(m in entry.name.lower() for m in markers):
            weight = entry.weight if isinstance(entry.weight, int) else (700 if "bold" in str(entry.weight) else 400)
            fc_weight = 200 if weight >= 600 else 80
            index = getattr(entry, "index", 0) or 0
            out.append((FontFace(Path(entry.fname), int(index), entry.name, weight >= 600), fc_weight))
    return out


def _face_from_file(path: Path, bold: bool) -> FontFace:
    """A face from an explicitly configured file; in a collection, the simplified-Chinese face."""
    from fontTools.ttLib import TTCollection, TTFont

    if not path.is_file():
        raise FontError(f"Configured brief font {path} does not exist. {INSTALL_HINT}")
    faces: list[FontFace] = []
    try:
        if path.suffix.lower() in (".ttc", ".otc"):
            coll = TTCollection(path, lazy=True)
            for i, font in enumerate(coll.fonts):
                faces.append(FontFace(path, i, font["name"].getDebugName(1) or path.stem, bold))
        else:
            faces.append(FontFace(path, 0, TTFont(path, lazy=True)["name"].getDebugName(1) or path.stem, bold))
    except Exception as exc:
        raise FontError(f"Configured brief font {path} cannot be read as a TrueType/OpenType font: {exc}") from exc
    faces = sorted((f for f in faces if _covers(f)), key=lambda f: _rank(f.family))
    if not faces:
        raise FontError(f"Configured brief font {path} has no Chinese glyphs (e.g. {_PROBE!r}). {INSTALL_HINT}")
    return faces[0]


def find_cjk_fonts(regular: Path | None = None, bold: Path | None = None) -> BriefFonts:
    """The CJK faces to set a brief in: the configured files, else the best Chinese sans face on the system.

    Raises ``FontError`` naming the missing font and the Debian package that provides one.
    """
    if regular is not None:
        reg = _face_from_file(regular, bold=False)
        bld = _face_from_file(bold, bold=True) if bold is not None else reg
        return BriefFonts(reg, bld)
    candidates = _fontconfig_candidates() or _matplotlib_candidates()
    candidates = [(f, w) for f, w in candidates if f.path.is_file()]
    candidates.sort(key=lambda fw: (_rank(fw[0].family), abs(fw[1] - 80), str(fw[0].path), fw[0].index))
    found = next((f for f, w in candidates if not f.bold and _covers(f)), None)
    if found is None:
        raise FontError(
            "No CJK font found: the brief needs a font with Chinese glyphs such as 'Noto Sans CJK SC'. "
            + INSTALL_HINT
        )
    reg = found
    bold_faces = sorted((fw for fw in candidates if fw[0].family == reg.family and fw[0].bold),
                        key=lambda fw: abs(fw[1] - 200))
    bld = bold_faces[0][0] if bold_faces and _covers(bold_faces[0][0]) else reg
    log.debug("brief fonts: regular %s#%d, bold %s#%d", reg.path, reg.index, bld.path, bld.index)
    return BriefFonts(reg, bld)


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return 0x2E80 <= cp <= 0x9FFF or 0xF900 <= cp <= 0xFAFF or 0xFF00 <= cp <= 0xFFEF or 0x20000 <= cp <= 0x3FFFF


def _subset_one(face: FontFace, chars: str, dest: Path) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(face.path, fontNumber=face.index)
    cmap = font.getBestCmap() or {}
    missing = sorted({ch for ch in chars if ch.isprintable() and not ch.isspace() and ord(ch) not in cmap})
    if missing:
        message = (f"Font {face.path} (face {face.index}, {face.family}) lacks glyphs for {''.join(missing)!r} "
                   f"({', '.join(f'U+{ord(c):04X}' for c in missing[:10])})")
        if any(_is_cjk(ch) or ch.isalnum() for ch in missing):
            raise FontError(f"{message}. {INSTALL_HINT}")
        # Symbols (an emoji in a source's name): WeasyPrint falls back to another installed font for them.
        log.warning("%s; they are drawn with a fallback font", message)
    opts = subset.Options()
    opts.layout_features = ["*"]
    opts.name_IDs = ["*"]
    opts.name_languages = ["*"]
    opts.notdef_outline = True
    opts.glyph_names = False
    opts.hinting = False  # print output does not need hinting, and it halves the file
    sub = subset.Subsetter(opts)
    sub.populate(text=chars)
    quiet = logging.getLogger("fontTools.subset")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # "FFTM NOT subset; dropped" and the like are expected, not news
    try:
        sub.subset(font)
    finally:
        quiet.setLevel(level)
    tmp = dest.with_name(f"{dest.stem}.{os.getpid()}.tmp")
    font.save(tmp)
    font.close()
    tmp.replace(dest)  # atomic: a concurrent render never sees half a file


def subset_fonts(fonts: BriefFonts, chars: str, cache_dir: Path) -> SubsetFonts:
    """Subset both faces to ``chars`` (plus printable ASCII), cached under ``cache_dir`` by content.

    A cached subset is reused when its recorded character set covers ``chars``, so month after month the
    same few files serve every brief; the first render of a new character set costs about half a second.
    """
    ascii_chars = "".join(chr(c) for c in range(0x20, 0x7F))
    wanted = set(chars) | set(ascii_chars)
    wanted = {ch for ch in wanted if not (ch.isspace() and ch != " ")}
    cache_dir.mkdir(parents=True, exist_ok=True)
    out: list[Path] = []
    for face in (fonts.regular, fonts.bold):
        stat = face.path.stat()
        ident = f"{face.path.resolve()}|{face.index}|{stat.st_size}|{int(stat.st_mtime)}|{_SUBSET_VERSION}"
        ident_hash = hashlib.sha256(ident.encode()).hexdigest()[:12]
        stem = f"{face.path.stem}-{face.index}-{ident_hash}"
        hit = None
        for meta in sorted(cache_dir.glob(f"{stem}-*.json")):
            try:
                have = set(json.loads(meta.read_text(encoding="utf-8"))["chars"])
            except (OSError, ValueError, KeyError):
                continue
            font_file = meta.with_suffix(".otf")
            if wanted <= have and font_file.is_file():
                hit = font_file
                break
        if hit is None:
            text = "".join(sorted(wanted))
            digest = hashlib.sha256(text.encode()).hexdigest()[:16]
            hit = cache_dir / f"{stem}-{digest}.otf"
            _subset_one(face, text, hit)
            meta_tmp = hit.with_name(f"{hit.stem}.{os.getpid()}.json.tmp")
            meta_tmp.write_text(json.dumps({"source": str(face.path), "index": face.index, "family": face.family,
                                            "chars": text}, ensure_ascii=False), encoding="utf-8")
            meta_tmp.replace(hit.with_suffix(".json"))  # written after the font: a listed subset always exists
            log.info("subset %s (face %d) to %d characters -> %s", face.path.name, face.index, len(text), hit)
        out.append(hit)
    return SubsetFonts(out[0], out[1], fonts.regular.family)
