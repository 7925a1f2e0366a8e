"""Settings on top of a routine: the table that declares every setting, the words of
the command line, the layers and how they resolve, the profile and its editing."""
