"""The chat: conversation view-model, controller and its widgets."""
