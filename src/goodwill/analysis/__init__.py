"""Analysis on files: customer summaries, model fits and reports from a transactions CSV, and
opening-hours calendars read from TOML or JSON files."""
