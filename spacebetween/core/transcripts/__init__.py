"""Session transcripts: reading, coding (a small trained model), rules, and language style matching.

Framework-free (numpy only). `table` reads and checks utterances; `features` and `model` are the
coder trained on AnnoMI (therapist behaviour, client talk type); `evaluate` is its transcript-grouped
cross-validation; `rules` are transparent flags (emotion words, naming feelings, here-and-now talk,
Socratic questions); `lsm` is language style matching. docs/transcripts.md is the model card.
"""
