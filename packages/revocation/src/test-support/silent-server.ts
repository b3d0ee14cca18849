/**
 * A peer that completes the NATS handshake and then answers nothing: what a publisher sees when
 * the server is partitioned away but the socket stays open. Only the deadline can end a publish.
 */
import { createServer, type Socket } from "node:net";

export interface SilentServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.write('INFO {"server_id":"silent","version":"2.9.10","proto":1,"headers":true,"max_payload":1048576}\r\n');
    let answered = false;
    socket.on("data", (chunk: Buffer) => {
      // The client's CONNECT is followed by a PING, whose PONG completes the handshake.
      if (!answered && chunk.toString().includes("PING")) {
        answered = true;
        socket.write("PONG\r\n");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    url: `nats://127.0.0.1:${address.port}`,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}
