"""ragqa: self-hosted RAG question answering."""

__version__ = "0.1.0"
