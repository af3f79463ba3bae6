"""The author's side: a pull request previewed from a local git checkout before it is pushed.

`git` runs the git binary (the only I/O), `pull` turns two refs into the same `PullContext` the
bot builds from GitHub, `render` prints the bot's decision for a terminal or as JSON.
"""
