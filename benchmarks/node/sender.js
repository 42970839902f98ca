// A real socket.io server (Node) feeding bench_capture.py's clients, as the issue measured:
// every client, the floor included, reads the frames a production socket.io server writes.
//
//   node sender.js N PAYLOADS.json   -> prints its port, then serves one client per connection:
//   bench:start, N message:new, bench:done
//
// Each message:new is one of the PAYLOADS (about 1 KB each) with its own messageId and the
// time it was sent, so nothing a client keeps is a duplicate and lag is live. The server
// emits as fast as the socket drains (batches between event-loop turns), so a client's CPU
// per event, not the sender, is what is measured.
const fs = require("fs");
const http = require("http");
const { Server } = require("socket.io");

const total = Number(process.argv[2]);
const templates = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
const BATCH = 64; // emits per event-loop turn
const HIGH_WATER = 1024; // packets waiting in engine.io before the sender waits for "drain"

const server = http.createServer();
const io = new Server(server, { maxHttpBufferSize: 1e8, pingInterval: 600000, pingTimeout: 600000 });
let connection = 0;

io.on("connection", (socket) => {
  const run = connection++;
  const conn = socket.conn;
  let i = 0;
  const pump = () => {
    if (socket.disconnected) return;
    if (conn.writeBuffer.length > HIGH_WATER) {
      conn.once("drain", pump);
      return;
    }
    const stop = Math.min(total, i + BATCH);
    for (; i < stop; i++) {
      const payload = templates[i % templates.length];
      socket.emit("message:new", {
        ...payload,
        messageId: `msg-${run}-${i}`,
        timestamp: new Date().toISOString(),
      });
    }
    if (i < total) setImmediate(pump);
    else socket.emit("bench:done", { sent: total });
  };
  // a moment for the client to settle (its connect handlers), then go
  setTimeout(() => {
    socket.emit("bench:start", {});
    pump();
  }, 300);
});

server.listen(0, "127.0.0.1", () => {
  console.log(server.address().port);
});
