"""Click to Do: the tray, the hotkey, the region overlay, the action popup and the result window."""
