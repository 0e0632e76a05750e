"""Getting text from outside Ponder: the X11 selection, the clipboard, stdin and OCR of a screen region."""
