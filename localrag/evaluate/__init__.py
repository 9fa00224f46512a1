"""`localrag eval`: does retrieval (and fine-tuning) help on your documents? Measured, with intervals.

datasets.py reads question sets (a simple JSONL format and adapters for COVID-QA, PubMedQA-L,
HotpotQA and MuSiQue) and holds the document-level train/test split; metrics.py scores answers,
retrieval and citations with bootstrap intervals; runner.py runs modes x models over the same
questions into a resumable run folder; kgqa.py runs graph mode over a KGQA set into the same kind of
folder; report.py turns a run into Markdown, JSON and a plot.
"""
