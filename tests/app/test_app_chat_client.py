"""SSE decoding and the streaming chat client against a small local SSE server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.sse_decoder import SseDecoder, chat_delta_text

PIECES = ["Hel", "lo", ", wor", "ld ✓"]


def _chunk(text: str | None) -> str:
    delta = {"content": text} if text is not None else {"role": "assistant"}
    return json.dumps({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta}]})


def test_decoder_handles_split_chunks_and_crlf():
    decoder = SseDecoder()
    stream = "".join(f"data: {_chunk(p)}\r\n\r\n" for p in PIECES) + "data: [DONE]\n\n"
    payloads = []
    for start in range(0, len(stream), 7):  # 7-byte network chunks split lines anywhere
        payloads += decoder.feed(stream[start:start + 7].encode("utf-8"))
    assert payloads[-1] == "[DONE]"
    assert "".join(chat_delta_text(p) for p in payloads) == "".join(PIECES)


def test_multi_line_data_joins_with_newline():
    assert SseDecoder().feed(b"data: a\ndata: b\n\n") == ["a\nb"]
    assert SseDecoder().feed(b": comment\nevent: x\n\n") == []


class _SseHandler(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 (http.server API)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append((self.path, body, self.headers.get("Authorization")))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in [None, *PIECES]:
            self.wfile.write(f"data: {_chunk(piece)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args):
        pass


@pytest.mark.qt
def test_chat_client_streams_tokens(qtbot):
    from app.chat_client import ChatClient

    server = ThreadingHTTPServer(("127.0.0.1", 0), _SseHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = ChatClient()
        tokens = []
        client.token_received.connect(tokens.append)
        with qtbot.waitSignal(client.finished, timeout=10000) as done:
            client.send(f"http://127.0.0.1:{server.server_port}", [{"role": "user", "content": "hi"}], "k3y", 16)
        assert done.args == ["".join(PIECES)]
        assert tokens == PIECES
        path, body, auth = _SseHandler.received[-1]
        assert path == "/v1/chat/completions" and body["stream"] is True and body["max_tokens"] == 16
        assert body["messages"] == [{"role": "user", "content": "hi"}] and auth == "Bearer k3y"
    finally:
        server.shutdown()


@pytest.mark.qt
def test_chat_client_reports_a_dead_server(qtbot):
    from app.chat_client import ChatClient

    client = ChatClient()
    with qtbot.waitSignal(client.failed, timeout=10000) as failed:
        client.send("http://127.0.0.1:9", [{"role": "user", "content": "hi"}])
    assert "did not answer" in failed.args[0]
