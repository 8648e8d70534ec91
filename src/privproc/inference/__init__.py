"""Inference backends that reach a model server (adapters over the ``workloads`` core).

:mod:`privproc.inference.openai_compat`: an OpenAI-compatible chat-completions server
(vLLM, llama.cpp's server, Ollama) in the same confidential VM as the node.
"""

from privproc.inference.openai_compat import OpenAICompatible

__all__ = ["OpenAICompatible"]
