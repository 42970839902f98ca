// The JS reference client (socket.io-client) for bench_capture.py: counts events between
// the sender's bench:start and bench:done markers and prints its own CPU time per event.
const { io } = require("socket.io-client");
const port = process.argv[2];
const socket = io(`http://127.0.0.1:${port}`, { transports: ["websocket"] });
let count = 0, cpu0 = null, wall0 = null;
socket.onAny((event) => {
  if (event === "bench:start") { cpu0 = process.cpuUsage(); wall0 = process.hrtime.bigint(); }
  else if (event === "bench:done") {
    const cpu = process.cpuUsage(cpu0);
    const wall = Number(process.hrtime.bigint() - wall0) / 1e9;
    const seconds = (cpu.user + cpu.system) / 1e6;
    console.log(JSON.stringify({ events: count, cpu0: 0, cpu1: seconds, wall0: 0, wall1: wall }));
    socket.close();
    process.exit(0);
  } else count += 1;
});
