import { createServer } from "node:net";

/**
 * A loopback port that was free a moment ago. Only for servers that cannot
 * bind port 0 themselves (redis-server): the port can be taken again before
 * the server binds it, so callers retry on "address already in use".
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => {
        if (port > 0) resolve(port);
        else reject(new Error("could not read the port of a loopback listener"));
      });
    });
  });
}
