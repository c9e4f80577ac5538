"""The conversation on a case: notes, their revisions, the timeline and (branch mentions) who watches it."""
