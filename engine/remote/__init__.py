"""Remote engines: an OpenAI-compatible server (vLLM, llama.cpp's server, Ollama, LM Studio,
Foundry Local, another machine's `ponder serve`) behind the same typed event stream as the local
engine. No Qt here.

- endpoint: what a connection is (address, model, CA file) and which addresses are acceptable;
- stream: turning streamed chat-completion chunks into thinking and answer;
- client: the HTTP side (httpx2), failures mapped to typed errors;
- service: RemoteService, the InferenceService look-alike the engine host plugs in;
- connections: the saved connections (settings file + OS keyring for the key).
"""
