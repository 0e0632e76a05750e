"""Readers on documents the tests build: the text comes out in order, labelled where it was."""

from __future__ import annotations


import pytest

from engine.documents.reader import expand_inputs, read_document
from tests.engine.documents.corpus import PAGE_WORDS, make_docx, make_pdf


def test_pdf_gives_one_section_per_page_labelled_by_page(tmp_path):
    document = read_document(make_pdf(tmp_path / "report.pdf", pages=4))
    assert [s.label for s in document.sections] == ["p. 1", "p. 2", "p. 3", "p. 4"]
    assert [s.page for s in document.sections] == [1, 2, 3, 4]
    for number, section in enumerate(document.sections, 1):
        assert section.text.startswith(f"Chapter {number}")
        assert PAGE_WORDS[number] in section.text
    assert document.kind == "pdf" and len(document.sha256) == 64


def test_pdf_restricted_only_by_an_owner_password_still_opens(tmp_path):
    from tests.engine.documents.corpus import encrypted_pdf

    document = read_document(encrypted_pdf(tmp_path / "locked-for-printing.pdf", user_password=""))
    assert "Chapter 1" in document.sections[0].text


def test_docx_sections_follow_headings(tmp_path):
    document = read_document(make_docx(tmp_path / "plan.docx"))
    assert [s.label for s in document.sections] == ["§ Findings", "§ Next steps"]
    assert "Hire two engineers" in document.sections[1].text


def test_html_drops_scripts_and_splits_at_headings(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<html><head><title>T</title><style>p{}</style></head><body><p>Lead text.</p>"
                    "<script>alert('x')</script><h1>Results</h1><p>Fish &amp; chips won.</p>"
                    "<h2>Costs</h2><ul><li>Rent</li><li>Food</li></ul></body></html>")
    document = read_document(page)
    assert [s.label for s in document.sections] == ["beginning", "§ Results", "§ Costs"]
    assert "Fish & chips won." in document.sections[1].text
    assert "alert" not in "".join(s.text for s in document.sections)
    assert "Rent\n" in document.sections[2].text


def test_markdown_splits_at_headings_but_not_inside_code(tmp_path):
    notes = tmp_path / "notes.md"
    notes.write_text("Preface line.\n\n# Setup\nInstall it.\n```\n# not a heading\n```\n## Usage\nRun it.\n")
    document = read_document(notes)
    assert [s.label for s in document.sections] == ["line 1", "§ Setup", "§ Usage"]
    assert "# not a heading" in document.sections[1].text


def test_plain_text_is_labelled_by_lines_and_cut_at_paragraphs(tmp_path):
    paragraph = "word " * 300 + "\n"
    text = tmp_path / "long.txt"
    text.write_text("\n".join(paragraph for _ in range(6)))
    document = read_document(text)
    assert len(document.sections) >= 2
    assert document.sections[0].label.startswith("lines 1–")
    assert all(s.text.strip() for s in document.sections)
    assert sum(s.text.count("word") for s in document.sections) == 1800


@pytest.mark.parametrize("codec, bom", [("utf-16-le", b""), ("utf-16-be", b""), ("utf-16", None), ("utf-8-sig", None)])
def test_text_in_other_encodings_is_decoded(tmp_path, codec, bom):
    path = tmp_path / "unicode.txt"
    path.write_bytes((bom or b"") + "Grüße aus Köln — 東京".encode(codec))
    assert read_document(path).sections[0].text == "Grüße aus Köln — 東京"


def test_rtf_text_is_extracted(tmp_path):
    path = tmp_path / "letter.rtf"
    path.write_text(r"{\rtf1\ansi{\fonttbl\f0 Helvetica;}\f0 Dear Ann, the {\b budget} is approved.\par\par Regards\par}")
    document = read_document(path)
    assert "the budget is approved." in document.sections[0].text
    assert document.sections[0].label == "paras. 1–2"


def test_folders_expand_to_their_supported_files(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("y")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    assert [p.name for p in expand_inputs([tmp_path])] == ["a.txt", "b.md"]


def test_pasted_text_becomes_a_document_labelled_by_headings_or_lines():
    from engine.documents.errors import EmptyDocumentError
    from engine.documents.reader import text_document

    markdown = text_document("# Aims\nGrow.\n\n# Risks\nCosts.\n", name="clipboard text")
    assert [s.label for s in markdown.sections] == ["§ Aims", "§ Risks"]
    assert markdown.name == "clipboard text"
    plain = text_document("one\n\ntwo\n")
    assert [s.label for s in plain.sections] == ["lines 1–3"]
    assert text_document("same").sha256 == text_document("same").sha256 != plain.sha256
    with pytest.raises(EmptyDocumentError, match="no text"):
        text_document("  \n\t")


def test_a_scanned_page_is_read_by_ocr(tmp_path):
    pytest.importorskip("rapidocr_onnxruntime")
    from fpdf import FPDF
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (1200, 300), "white")
    ImageDraw.Draw(image).text((40, 100), "Quarterly revenue grew strongly", fill="black",
                               font=ImageFont.load_default(size=64))
    scan = tmp_path / "scan.png"
    image.save(scan)
    pdf = FPDF()
    pdf.add_page()
    pdf.image(str(scan), x=10, y=10, w=190)
    pdf.output(str(tmp_path / "scanned.pdf"))
    document = read_document(tmp_path / "scanned.pdf")
    assert document.sections[0].label == "p. 1"
    assert "revenue" in document.sections[0].text.lower()


def test_files_without_an_extension_are_read_by_their_content(tmp_path):
    # Like /usr/share/common-licenses/GPL-3: plain text with no extension.
    licence = tmp_path / "GPL-3"
    licence.write_text("GNU GENERAL PUBLIC LICENSE\nVersion 3, 29 June 2007\n\nPreamble\n", encoding="utf-8")
    document = read_document(licence)
    assert document.kind == "text" and "Preamble" in document.sections[0].text
    pdf = make_pdf(tmp_path / "report.pdf", pages=2).rename(tmp_path / "report")
    assert read_document(pdf).kind == "pdf"
    word = make_docx(tmp_path / "plan.docx").rename(tmp_path / "plan")
    assert read_document(word).kind == "docx"
    page = tmp_path / "saved-page"
    page.write_text("<!DOCTYPE html><html><body><h1>Title</h1><p>Body text.</p></body></html>")
    assert read_document(page).kind == "html"


def test_binary_without_an_extension_is_refused_in_plain_words(tmp_path):
    from engine.documents.errors import UnsupportedDocumentError

    blob = tmp_path / "a.out"
    blob.write_bytes(bytes(range(256)) * 64)
    blob = blob.rename(tmp_path / "program")
    with pytest.raises(UnsupportedDocumentError) as error:
        read_document(blob)
    assert "neither text nor" in error.value.user_message()
