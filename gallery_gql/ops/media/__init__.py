"""Generated media files for seeded items (the demo's thumbnails)."""
