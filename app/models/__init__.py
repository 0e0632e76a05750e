"""The model manager window: catalog with a recommendation, downloads, import, removal."""
