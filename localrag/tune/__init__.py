"""Fine-tuning on the RAFT set and export of the tuned model to a verified, quantized GGUF."""
