"""The sync engine: plain functions over models and the Google boundary, no request globals."""
