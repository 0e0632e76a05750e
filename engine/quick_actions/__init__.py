"""Quick actions on screen text: the catalogue, content classification and safe prompts."""
