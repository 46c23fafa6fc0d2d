HTTP/1.1 200 OK
content-type: application/json
mcp-session-id: ae7f2f0e97dbfe8f28e2f4fdba976e40
content-length: 316
date: Wed, 02 Dec 2026 07:00:25 GMT

