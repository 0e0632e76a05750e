"""Conversation history: an encrypted SQLite store, its key, export and import.

Layout: `vault` decides how the store is unlocked (keyring, passphrase or the user's explicit
unencrypted opt-in) and opens `store.HistoryStore`; `writer.MessageWriter` saves an answer as it
streams; `export` turns a conversation into Markdown or Ponder JSON and back.
"""
