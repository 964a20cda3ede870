"""Text tools every feature shares: Markdown rendering and sections, word diffs, typed
text cleaning, and the check for details that identify someone. Nothing here knows about
rooms, publication or the web."""
