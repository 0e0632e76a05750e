"""Summaries of documents of any length: chunk by the model's tokenizer, map, reduce, cite."""
