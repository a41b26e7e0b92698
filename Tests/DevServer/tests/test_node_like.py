"""Where python-socketio/uvicorn differ from a Node server, we behave like Node."""

import json
import socket
import urllib.request


def test_websocket_no_deflate_any_origin(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall((
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{server.port}\r\n"
            "Connection: Upgrade\r\nUpgrade: websocket\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate; "
            "client_max_window_bits\r\n"
            "Origin: http://elsewhere.example\r\n\r\n").encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(4096)
            assert chunk, "connection closed during handshake"
            buf += chunk
        head, rest = buf.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head
        assert b"sec-websocket-extensions" not in head.lower()
        while len(rest) < 2:
            rest += s.recv(4096)
        # first frame: FIN, no RSV1 (not compressed), text, the OPEN packet
        assert rest[0] == 0x81, hex(rest[0])
        length = rest[1] & 0x7F
        assert length < 126
        while len(rest) < 2 + length:
            rest += s.recv(4096)
        payload = rest[2:2 + length].decode()
        assert payload.startswith("0")
        assert json.loads(payload[1:])["maxPayload"] == 1000000


def test_polling_any_origin(server):
    req = urllib.request.Request(
        server.url + "/socket.io/?EIO=4&transport=polling",
        headers={"Origin": "http://elsewhere.example"})
    with urllib.request.urlopen(req, timeout=5) as r:
        assert r.status == 200
        assert r.headers["Access-Control-Allow-Origin"] == \
            "http://elsewhere.example"
        assert r.read().startswith(b"0{")
