#!/usr/bin/env python3
"""Mock LLM servers (OpenAI-compatible and Anthropic) for llm-remote, and
the test that runs the service against them over real TCP.

The mock replays llama.cpp's recorded stream (../shared/testdata/llm/
server/) and Anthropic-format streams with adversarial splits: chunked
transfer encoding with chunk boundaries that cut events, lines and UTF-8
characters, socket writes of a few bytes each (TCP_NODELAY), several
events per write, CRLF or LF, comment lines, ping events, unknown events
and delta types, a character split between two deltas; and every failure:
HTTP 401/403/404/429 (retry-after)/500/529 with JSON bodies, a connection
dropped mid-stream, a server that stalls. It also plays a model that calls
the `forth` tool (both API styles) and checks the tool result it gets
back. The scenario is the first path segment after /s/ in the base URL.

The client is build/hosted/llm_remote_client (a hosted kernel in a
process with llm-remote over test/http_posix.c). TAP output.

As a module: MockServer(...) is used by bench/llm_stream.sh (pace mode).
"""
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time

O = os.environ.get("O", "build/hosted")
SRV = os.environ.get("LLM_SERVER_DATA", "../shared/testdata/llm/server")
KEY = "sk-mock-SECRET-9876"


def dechunk(raw):
    body = raw.split(b"\r\n\r\n", 1)[1]
    out, p = b"", 0
    while True:
        e = body.index(b"\r\n", p)
        n = int(body[p:e], 16)
        if n == 0:
            return out
        out += body[e + 2:e + 2 + n]
        p = e + 2 + n + 2


def recorded():
    raw = open(os.path.join(SRV, "raw_stream_true.response.raw"), "rb").read()
    fraw = open(os.path.join(SRV, "raw_stream_false.response.raw"), "rb").read()
    answer = fraw.split(b"\r\n\r\n", 1)[1]
    text = json.loads(answer)["choices"][0]["message"]["content"]
    return dechunk(raw), answer, text


def sse(event, data):
    d = json.dumps(data, ensure_ascii=False).encode()
    return (b"event: " + event.encode() + b"\n" if event else b"") + b"data: " + d + b"\n\n"


def anthropic_stream(texts, stop="end_turn", extra=True, tool=None):
    """An Anthropic stream; texts are bytes pieces (a character may be
    split between two: sent raw, as a server splitting bytes would)."""
    out = sse("message_start", {"type": "message_start", "message": {
        "id": "msg_1", "type": "message", "role": "assistant", "content": [],
        "model": "mock", "usage": {"input_tokens": 11, "output_tokens": 1}}})
    if extra:
        out += b": a comment line\n"
        out += sse("ping", {"type": "ping"})
        out += sse("content_block_start", {"type": "content_block_start", "index": 0,
                                           "content_block": {"type": "thinking", "thinking": ""}})
        out += sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                           "delta": {"type": "thinking_delta", "thinking": "hm"}})
        out += sse("content_block_stop", {"type": "content_block_stop", "index": 0})
    idx = 1
    if texts:
        out += sse("content_block_start", {"type": "content_block_start", "index": idx,
                                           "content_block": {"type": "text", "text": ""}})
        for i, t in enumerate(texts):
            # raw bytes inside the JSON string (split characters included)
            out += (b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\","
                    b"\"index\":%d,\"delta\":{\"type\":\"text_delta\",\"text\":\"" % idx
                    + t + b"\"}}\n\n")
            if extra and i == 0:
                out += sse("future_event", {"type": "future_event", "x": [1, {"y": 2}]})
                out += sse("content_block_delta", {"type": "content_block_delta", "index": idx,
                                                   "delta": {"type": "citations_delta", "c": {}}})
        out += sse("content_block_stop", {"type": "content_block_stop", "index": idx})
        idx += 1
    if tool:
        tid, code = tool
        out += sse("content_block_start", {"type": "content_block_start", "index": idx,
                                           "content_block": {"type": "tool_use", "id": tid,
                                                             "name": "forth", "input": {}}})
        args = json.dumps({"code": code})
        for k in range(0, len(args), 7):
            out += sse("content_block_delta", {"type": "content_block_delta", "index": idx,
                                               "delta": {"type": "input_json_delta",
                                                         "partial_json": args[k:k + 7]}})
        out += sse("content_block_stop", {"type": "content_block_stop", "index": idx})
    out += sse("message_delta", {"type": "message_delta",
                                 "delta": {"stop_reason": stop, "stop_sequence": None},
                                 "usage": {"output_tokens": 7}})
    out += sse("message_stop", {"type": "message_stop"})
    return out


def openai_stream(texts, tool=None, finish="stop"):
    out = b""
    for t in texts:
        out += sse("", {"choices": [{"index": 0, "delta": {"content": t}, "finish_reason": None}]})
    if tool:
        tid, code = tool
        args = json.dumps({"code": code})
        out += sse("", {"choices": [{"index": 0, "delta": {"tool_calls": [{
            "index": 0, "id": tid, "type": "function",
            "function": {"name": "forth", "arguments": ""}}]}, "finish_reason": None}]})
        for k in range(0, len(args), 5):
            out += sse("", {"choices": [{"index": 0, "delta": {"tool_calls": [{
                "index": 0, "function": {"arguments": args[k:k + 5]}}]}, "finish_reason": None}]})
        finish = "tool_calls"
    out += sse("", {"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    out += sse("", {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 4}})
    out += b"data: [DONE]\n\n"
    return out


class MockServer:
    """A threaded HTTP/1.1 server on 127.0.0.1; handler(srv, conn, method,
    path, headers, body) answers. Every request is recorded."""

    def __init__(self, handler, ctx=None):
        self.handler = handler
        self.ctx = ctx                  # an ssl.SSLContext: HTTPS
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.requests = []
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        try:
            if self.ctx:
                c = self.ctx.wrap_socket(c, server_side=True)
            data = b""
            while b"\r\n\r\n" not in data:
                d = c.recv(65536)
                if not d:
                    return
                data += d
            head, body = data.split(b"\r\n\r\n", 1)
            lines = head.decode("latin1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for ln in lines[1:]:
                k, _, v = ln.partition(":")
                headers[k.strip().lower()] = v.strip()
            n = int(headers.get("content-length", "0"))
            while len(body) < n:
                d = c.recv(65536)
                if not d:
                    return
                body += d
            with self.lock:
                self.requests.append((method, path, headers, body))
            self.handler(self, c, method, path, headers, body)
        except OSError:                 # resets, TLS alerts
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    def close(self):
        self.sock.close()


def send_split(c, data, rng, maxw=9):
    """Writes data in small pieces (each a separate TCP segment)."""
    p = 0
    while p < len(data):
        n = rng.randint(1, maxw)
        c.sendall(data[p:p + n])
        p += n
        if rng.random() < 0.3:
            time.sleep(0.0005)


def chunked(data, rng, maxc=40):
    out, p = b"", 0
    while p < len(data):
        n = rng.randint(1, maxc)
        out += b"%x\r\n" % len(data[p:p + n]) + data[p:p + n] + b"\r\n"
        p += n
    return out + b"0\r\n\r\n"


def respond(c, status, body, rng, ctype="application/json", extra="", chunk=False, split=True):
    reason = {200: "OK", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
              429: "Too Many Requests", 500: "Internal Server Error",
              529: "Overloaded"}.get(status, "X")
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\n{extra}"
    if chunk:
        head += "Transfer-Encoding: chunked\r\n\r\n"
        payload = chunked(body, rng)
    else:
        head += f"Content-Length: {len(body)}\r\n\r\n"
        payload = body
    if split:
        send_split(c, head.encode() + payload, rng)
    else:
        c.sendall(head.encode() + payload)


ERRORS = {
    "e401": (401, "", {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}),
    "e403": (403, "", {"type": "error", "error": {"type": "permission_error", "message": "Not allowed for this key"}}),
    "e404": (404, "", {"error": {"message": "The model `mock-model` does not exist", "type": "invalid_request_error"}}),
    "e429": (429, "Retry-After: 1\r\n", {"error": {"message": "Rate limit reached", "type": "rate_limit_exceeded"}}),
    "e500": (500, "", {"error": {"message": "The server had an error", "type": "server_error"}}),
    "e529": (529, "", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
}


# what the model of scenario tool-file asks the forth tool to run
TOOL_FILE_CODE = ('VARIABLE FD  S" /boot/note.txt" R/O OPEN-FILE THROW FD ! '
                  'PAD 80 FD @ READ-FILE THROW PAD SWAP TYPE  FD @ CLOSE-FILE THROW')


def make_handler(rec_stream, rec_answer):
    def handler(srv, c, method, path, headers, body):
        parts = path.split("/")
        scen = parts[2] if len(parts) > 2 and parts[1] == "s" else ""
        seed = sum(map(ord, scen)) + len(srv.requests)
        rng = random.Random(seed)
        if path.endswith("/models"):
            if headers.get("authorization") != "Bearer " + KEY:
                return respond(c, 401, json.dumps(ERRORS["e401"][2]).encode(), rng)
            return respond(c, 200, json.dumps({"object": "list", "data": [
                {"id": "mock-model"}, {"id": "mock-\u00e9"}]}).encode(), rng, chunk=True)
        req = json.loads(body)
        if scen == "q":            # the scenario is the question's first word
            users = [m for m in req.get("messages", []) if m.get("role") == "user"
                     and isinstance(m.get("content"), str)]
            scen = users[0]["content"].split()[0] if users else ""
        if scen in ERRORS:
            st, extra, js = ERRORS[scen]
            return respond(c, st, json.dumps(js).encode(), rng, extra=extra)
        if scen == "rec":          # the recording, chunked, tiny writes
            return respond(c, 200, rec_stream, rng, "text/event-stream", chunk=True)
        if scen == "rec-crlf":     # CRLF line ends, comments, no chunking
            s = rec_stream.replace(b"\n", b"\r\n").replace(b"\r\n\r\ndata", b"\r\n\r\n: keep-alive\r\n\r\ndata")
            head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
            send_split(c, head + s, rng, maxw=300)   # several events per write
            return
        if scen == "rec-plain":    # non-streamed
            return respond(c, 200, rec_answer, rng)
        if scen == "anth":
            s = anthropic_stream([b"Caf\xc3", b"\xa9 \xf0\x9f", b"\x99\x82 fin"])
            return respond(c, 200, s, rng, "text/event-stream", chunk=True)
        if scen == "drop":         # half the recording, then the connection closes
            s = chunked(rec_stream, rng)
            head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            send_split(c, head + s[:len(s) // 2], rng, maxw=200)
            c.shutdown(socket.SHUT_RDWR)
            return
        if scen == "stall-anth":   # Anthropic: one piece of text, then nothing
            head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            first = anthropic_stream([b"Wait"], extra=False)
            first = first[:first.index(b"event: content_block_stop")]
            c.sendall(head + chunked(first, rng)[:-5])   # no last chunk
            c.settimeout(120)
            try:
                c.recv(1)          # returns when the client closes
            except OSError:
                pass
            srv.stall_closed = time.monotonic()
            return
        if scen == "stall":        # a few events, then nothing until the client gives up
            head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            first = rec_stream[:rec_stream.index(b"\n\n", 600) + 2]
            c.sendall(head + chunked(first, rng)[:-5])   # no last chunk
            c.settimeout(30)
            try:
                c.recv(1)          # returns when the client closes
            except OSError:
                pass
            return
        msgs = req.get("messages", [])
        if scen == "tool-openai":
            results = [m for m in msgs if m.get("role") == "tool"]
            if not results:
                s = openai_stream(["Let me compute."], tool=("call_1", "2 3 + ."))
            else:
                got = results[-1]["content"]
                s = openai_stream(["The tool said: ", json.dumps(got)])
            return respond(c, 200, s, rng, "text/event-stream", chunk=True)
        if scen == "tool-file":    # reads a file through the tool
            results = [m for m in msgs if m.get("role") == "tool"]
            if not results:
                s = openai_stream(["Reading."], tool=("call_2", TOOL_FILE_CODE))
            else:
                s = openai_stream(["The tool said: ", json.dumps(results[-1]["content"])])
            return respond(c, 200, s, rng, "text/event-stream", chunk=True)
        if scen == "tool-anth-loop":
            results = [b for m in msgs if m.get("role") == "user" and isinstance(m.get("content"), list)
                       for b in m["content"] if b.get("type") == "tool_result"]
            if not results:
                s = anthropic_stream([], stop="tool_use", extra=True,
                                     tool=("toolu_9", ": spin begin again ; spin"))
            else:
                s = anthropic_stream([b"Tool result: " + json.dumps(results[-1]["content"]).encode()[1:-1]],
                                     extra=False)
            return respond(c, 200, s, rng, "text/event-stream", chunk=True)
        respond(c, 404, b'{"error":{"message":"no such scenario"}}', rng)
    return handler


def run_client(port, scen, provider, stream, tools=0, timeout_ms=3000, question="Hi", extra=None):
    base = f"http://127.0.0.1:{port}/s/{scen}"
    args = [f"{O}/llm_remote_client", base, provider, str(stream), str(tools), str(timeout_ms), question]
    if extra:
        args.append(extra)
    env = dict(os.environ, LLM_API_KEY=KEY)
    p = subprocess.run(args, capture_output=True, timeout=60, env=env)
    out = p.stdout.decode("utf-8", "replace")
    text, _, tail = out.rpartition("\n@@ ")
    if not _:
        text, tail = "", out.partition("@@ ")[2]
    return p.returncode, text, tail.strip(), out + p.stderr.decode("utf-8", "replace")


def main():
    n = {"ok": 0, "fail": 0}

    def check(cond, what, detail=""):
        n["ok" if cond else "fail"] += 1
        print(("ok - " if cond else "not ok - ") + what, flush=True)
        if not cond and detail:
            print("# " + detail.replace("\n", "\n# ")[:2000], flush=True)

    if not os.path.exists(f"{O}/llm_remote_client"):
        print(f"not ok - {O}/llm_remote_client is missing (make TARGET=hosted tests)")
        return 1
    rec_stream, rec_answer, ref = recorded()
    srv = MockServer(make_handler(rec_stream, rec_answer))
    port = srv.port

    def case(scen, provider, stream, want_text, want_tail, **kw):
        rc, text, tail, allout = run_client(port, scen, provider, stream, **kw)
        ok = rc == 0 and text == want_text and tail.startswith(want_tail)
        check(ok, f"{scen} {provider} stream={stream}: {tail[:90]!r}",
              f"rc {rc}\ntext {text!r}\nwant {want_text!r}\ntail {tail!r}\nwant {want_tail!r}\n{allout[-1500:]}")
        check(KEY not in allout and "SECRET" not in allout, f"{scen}: the key is not printed")
        return text, tail

    case("rec", "openai", 1, ref, "FINISH length in=46 out=16")
    case("rec-crlf", "openai", 1, ref, "FINISH length in=46 out=16")
    case("rec-plain", "openai", 0, ref, "FINISH length in=46 out=16")
    case("anth", "anthropic", 1, "Caf\u00e9 \U0001f642 fin", "FINISH stop in=11 out=7")
    for scen, (st, _, js) in ERRORS.items():
        msg = (js["error"]["message"])
        code = {401: -18, 403: -18, 404: -7, 429: -14, 500: -15, 529: -14}[st]
        prov = "anthropic" if "type" in js else "openai"
        retry = 1 if st == 429 else 0
        case(scen, prov, 1, "", f"ERROR {code} retry={retry} msg=HTTP {st}: {msg}")
    # drop mid-stream: the partial answer, marked
    rc, text, tail, allout = run_client(port, "drop", "openai", 1)
    check(rc == 0 and tail.startswith("FINISH error") and "connection" in tail
          and 0 < len(text) < len(ref) and ref.startswith(text),
          f"drop: partial answer kept and marked: {text!r} {tail!r}", allout[-1500:])
    t0 = time.monotonic()
    rc, text, tail, allout = run_client(port, "stall", "openai", 1, timeout_ms=700)
    took = time.monotonic() - t0
    check(rc == 0 and tail == "FINISH error in=0 out=0 detail=timed out" and ref.startswith(text)
          and len(text) > 0, f"stall: read timeout after the partial answer: {text!r} {tail!r}",
          allout[-1500:])
    check(took < 20, f"stall: gave up in {took:.1f} s")
    # tools
    text, tail = case("tool-openai", "openai", 1,
                      "Let me compute.<CODE>2 3 + .<OUT>5 <END>The tool said: \"5 \"",
                      "FINISH stop", tools=1)
    rc, text, tail, allout = run_client(port, "tool-anth-loop", "anthropic", 1, tools=1)
    check(rc == 0 and text.startswith("<CODE>: spin begin again ; spin<OUT>error: stopped after ")
          and "steps (fuel limit)<END>Tool result: error: stopped after " in text
          and tail.startswith("FINISH stop"),
          f"tool loop stopped by fuel, the model got the error: {text[:160]!r}", allout[-1500:])
    # models
    rc, text, tail, allout = run_client(port, "m", "openai", 1, extra="models")
    check(rc == 0 and "@@ MODEL mock-model\n@@ MODEL mock-\u00e9" in allout, "models: GET /v1/models", allout)
    srv.close()
    print(f"# {n['ok']} passed, {n['fail']} failed")
    return 1 if n["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
