"""`flagbot demo`: the whole governance story on one machine, on this repository's own flags.

An emulated GitHub and the real flagbot service run in one process (`bot.sandbox`), with local
receivers for the notification channels; the people of the seed open and review pull requests;
the real rollout job then walks the new flag to 100 % on a simulated clock. Each step checks
what GitHub shows against what the story says, so the demo doubles as an end-to-end check.

- `seed`: the cast and `acme/flags` built from a flagbot checkout's files
- `story`: the pull-request steps; `walk`: the rollout runs; `play`: start to end
- `receivers`, `checkout`, `keep`: the I/O around them
- `views`, `timeline`, `render`, `style`, `page`: how it reads
"""
