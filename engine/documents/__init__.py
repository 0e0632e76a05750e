"""Reading documents (.txt .md .html .pdf .docx .rtf) into labelled sections, in a sandboxed child process."""
