"""The project's benchmark: `make bench`. Not part of CI, whose machines are too noisy
for timings; CI keeps the query-count tests instead."""
