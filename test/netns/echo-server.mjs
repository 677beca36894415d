// A tiny HTTP server for the exit tests: answers every request with the
// client's source address as it sees it (one line). Port from argv[2].
import http from 'node:http';
const port = Number(process.argv[2] ?? 8080);
http.createServer((req, res) => res.end(`${String(req.socket.remoteAddress).replace(/^::ffff:/, '')}\n`)).listen(port, '0.0.0.0');
