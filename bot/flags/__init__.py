"""The flag file: model, safe loading with positions, validation, JSON Schema."""
