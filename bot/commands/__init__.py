"""One module per `flagbot` command (see `bot.cli`)."""
