"""`flagbot replay`: send recorded webhook deliveries to a bot again.

- `deliveries`: read GitHub's delivery JSON (and the other shapes people keep deliveries in),
  re-serialise and re-sign them (pure);
- `send`: POST one to a bot, as GitHub would;
- `retarget`: point a delivery at the emulated GitHub when it names things it lacks (pure);
- `local`: replay in process against the emulator and a real service, recording what the bot
  did;
- `transcript`: that record as text, stable enough to compare with golden files (pure).
"""
