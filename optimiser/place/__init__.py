"""A place's scenarios: overrides applied and validated, references ordered, and the
model's plain data (`PlaceData`) for each; the one rule for the reference scenario
(`default_reference`) and for the main pooled scenario (`main_pooled`)."""
