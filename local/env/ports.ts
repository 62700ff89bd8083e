/** @module local/env/ports — free-port lookup and a clear error for a busy one. */
import { createServer } from "node:net";

/** Resolves when `port` on 127.0.0.1 can be bound; rejects with advice when it is busy. */
export function assertPortFree(port: number, variable: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        new Error(
          error.code === "EADDRINUSE"
            ? `Port ${port} on 127.0.0.1 is busy (another stack or program uses it). Stop that program, or choose another port: ${variable}=<port> make local`
            : `Cannot use port ${port}: ${error.message}`,
        ),
      );
    });
    server.listen(port, "127.0.0.1", () => server.close(() => resolve()));
  });
}

/** A port the OS says is free right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
