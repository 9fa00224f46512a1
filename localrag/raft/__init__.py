"""RAFT training data from the user's own documents: grounded Q&A pairs (`qa`) and the RAFT set with
oracle and distractor documents and quoted chain-of-thought answers (`dataset`)."""

# Distractor documents per RAFT example: the paper's sets use a handful; past this the documents are cut to fit
# max_tokens anyway, and a huge k ran out of LanceDB's range after minutes of question writing.
MAX_DISTRACTORS = 20
