"""A model server speaking the OpenAI protocol that gives one fixed answer: the controlled input for testing what
happens after generation (verification, citations, streaming). The real model paths are tested elsewhere."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Handler(BaseHTTPRequestHandler):
    answer = ""
    when: tuple[tuple[str, str], ...] = ()  # (words in the prompt, the answer to give then)
    first_token_delay = 0.0  # seconds a stream stays silent before its first token (a model reading)

    def log_message(self, *args: Any) -> None:
        pass

    def _json(self, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._json({"object": "list", "data": [{"id": "fixed", "object": "model", "max_model_len": 4096}]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        if not self.path.endswith("/chat/completions"):
            self.send_response(404)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        usage = {"prompt_tokens": 100, "completion_tokens": 7, "total_tokens": 107}
        prompt = " ".join(str(m.get("content", "")) for m in body.get("messages", []))
        answer = next((said for words, said in self.when if words in prompt), self.answer)
        if body.get("stream"):
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.end_headers()
            self.wfile.flush()
            time.sleep(self.first_token_delay)
            words = answer.split(" ")
            pieces = [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]
            for delta, finish in [*((p, None) for p in pieces), ("", "stop")]:
                chunk: dict[str, Any] = {
                    "choices": [{"index": 0, "delta": {"content": delta}, "finish_reason": finish}]
                }
                if finish:
                    chunk["usage"] = usage
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            return
        message = {"role": "assistant", "content": answer}
        self._json({"choices": [{"index": 0, "message": message, "finish_reason": "stop"}], "usage": usage})


class FixedAnswerServer:
    """``url`` is the ``/v1`` base for ragqa's ``openai`` backend; every chat completion answers ``answer``, or
    the answer of the first ``when`` pair whose words the prompt contains."""

    def __init__(
        self, answer: str, when: tuple[tuple[str, str], ...] = (), first_token_delay: float = 0.0
    ) -> None:
        handler = type(
            "FixedHandler",
            (_Handler,),
            {"answer": answer, "when": when, "first_token_delay": first_token_delay},
        )
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/v1"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
