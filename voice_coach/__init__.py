"""voice_coach: voice-guided routines from YAML scripts, played live or exported to MP3."""

__version__ = "0.1.0"
