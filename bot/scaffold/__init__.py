"""`flagbot init`: the files of a new flags repository (pure: templates in, files out)."""
