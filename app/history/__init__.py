"""The window's conversation history: sidebar, saving chats as they stream, opening saved ones."""
