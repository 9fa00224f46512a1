"""RAFT training data from the user's own documents: grounded Q&A pairs (`qa`) and the RAFT set with
oracle and distractor documents and quoted chain-of-thought answers (`dataset`)."""
