"""Wall displays: playlists of dashboard views that a display account shows in turn."""
