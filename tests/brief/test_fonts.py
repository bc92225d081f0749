"""CJK font discovery, clear errors without one, and the cached subsets."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import matplotlib
import pytest

from brief import fonts
from brief.fonts import FontError, find_cjk_fonts, subset_fonts

LATIN_ONLY = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


def _system_fonts() -> fonts.BriefFonts:
    """The machine's CJK fonts. ``make setup`` installs them (fonts-noto-cjk) wherever apt-get exists, and CI
    runs it: there (or with ``CI`` set) a missing font is a failure of the set-up. Only on a machine without
    apt-get, where the set-up cannot install it, is it a skip."""
    try:
        return find_cjk_fonts()
    except FontError as exc:
        if os.environ.get("CI") or shutil.which("apt-get"):
            pytest.fail(f"the set-up did not install a CJK font (run `make setup`): {exc}")
        pytest.skip(f"no CJK font on this machine and no apt-get to install one: {exc}")


def test_finds_a_chinese_face_with_bold() -> None:
    found = _system_fonts()
    assert found.regular.path.is_file()
    assert fonts._covers(found.regular, "中文岗位")
    assert fonts._covers(found.bold, "中文岗位")
    assert not found.regular.bold


def test_no_cjk_font_names_the_font_and_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "_fontconfig_candidates", lambda: [])
    monkeypatch.setattr(fonts, "_matplotlib_candidates", lambda: [])
    with pytest.raises(FontError, match="fonts-noto-cjk") as info:
        find_cjk_fonts()
    assert "Noto Sans CJK SC" in str(info.value)
    assert "LABOURWATCH_BRIEF_FONT" in str(info.value)


def test_latin_only_candidates_are_not_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    latin = fonts.FontFace(LATIN_ONLY, 0, "DejaVu Sans", False)
    monkeypatch.setattr(fonts, "_fontconfig_candidates", lambda: [(latin, 80)])
    with pytest.raises(FontError, match="No CJK font found"):
        find_cjk_fonts()


def test_configured_font_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.otf"
    with pytest.raises(FontError, match=str(missing)):
        find_cjk_fonts(missing)
    with pytest.raises(FontError, match="no Chinese glyphs"):
        find_cjk_fonts(LATIN_ONLY)


def test_configured_collection_picks_simplified_chinese_face() -> None:
    found = _system_fonts()
    if found.regular.path.suffix.lower() != ".ttc":
        pytest.skip("system CJK font is not a collection")
    face = find_cjk_fonts(found.regular.path).regular
    assert face.path == found.regular.path
    assert "SC" in face.family or "Hans" in face.family


def test_subset_is_cached_and_reused(tmp_path: Path) -> None:
    from fontTools.ttLib import TTFont

    found = _system_fonts()
    first = subset_fonts(found, "传统软件开发岗位", tmp_path)
    cmap = TTFont(first.regular).getBestCmap()
    assert all(ord(ch) in cmap for ch in "传统软件开发岗位ABC123%")
    assert ord("猫") not in cmap  # cut to what was asked for
    assert first.regular.stat().st_size < 200_000
    mtime = first.regular.stat().st_mtime_ns
    again = subset_fonts(found, "软件开发", tmp_path)  # covered by the cached set: no new file
    assert again.regular == first.regular and again.regular.stat().st_mtime_ns == mtime
    wider = subset_fonts(found, "传统软件开发岗位猫", tmp_path)
    assert wider.regular != first.regular
    assert ord("猫") in TTFont(wider.regular).getBestCmap()
    assert len(list(tmp_path.glob("*.otf"))) == 2 * (1 if found.bold == found.regular else 2)


def test_subset_refuses_text_the_font_lacks_but_tolerates_symbols(tmp_path: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    latin = fonts.BriefFonts(*(fonts.FontFace(LATIN_ONLY, 0, "DejaVu Sans", b) for b in (False, True)))
    with pytest.raises(FontError, match="lacks glyphs") as info:
        subset_fonts(latin, "中", tmp_path)
    assert "U+4E2D" in str(info.value) and "fonts-noto-cjk" in str(info.value)
    assert not list(tmp_path.glob("*.otf"))
    subset_fonts(latin, "abc\U0001F4BC", tmp_path)  # an emoji: warned about, left to a fallback font
    assert "U+1F4BC" in caplog.text


def test_latin_font_path_exists() -> None:
    # The Latin-only font the tests above rely on ships with matplotlib: never skipped, so a missing one fails.
    assert LATIN_ONLY.is_file(), f"{LATIN_ONLY} is missing: the tests of Latin-only fonts cannot run"
