"""Live playback: the session (a pure state machine), the player on an output stream,
the device, the keys, and where each routine was left off."""
