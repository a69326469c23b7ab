"""Sample data for the demo and the tests (clearly marked sample; no real people)."""
