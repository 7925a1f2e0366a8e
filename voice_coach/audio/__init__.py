"""Audio: the clip value, loudness, and mixing a timeline into PCM."""
