"""The summary window: progress, Cancel, Copy, Save as Markdown, Continue in chat."""
