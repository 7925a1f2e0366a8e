"""Exports: audio files with tags, chapters and a cover; split tracks; many at once."""
