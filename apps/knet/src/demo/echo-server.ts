// The demo's backend: answers every HTTP request with its pod name, on $POD_IP:$PORT.
// Run it as a Pod: knet run echo-1 -l app=echo -p http:8080 --readiness http:/healthz -- node echo-server.js
import { createServer } from 'node:http';

const host = process.env.POD_IP ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 8080);
const name = process.env.POD_NAME ?? 'echo';

const server = createServer((req, res) => {
  res.setHeader('content-type', 'text/plain');
  if (req.url === '/env') {
    res.end(Object.entries(process.env).map(([k, v]) => `${k}=${v}`).sort().join('\n') + '\n');
    return;
  }
  res.end(`${name}\n`);
});
server.keepAliveTimeout = 5_000;
server.listen(port, host, () => console.log(JSON.stringify({ msg: 'listening', pod: name, address: `${host}:${port}` })));
// Finish in-flight requests on SIGTERM, as a well-behaved pod does during its grace period.
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGINT', () => server.close(() => process.exit(0)));
