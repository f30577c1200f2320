// A real HTTP server on 127.0.0.1 (port 0) that serves feed bodies and
// misbehaves on purpose, for the updater tests. Nothing else is contacted.

import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Handles one request; `count` is how many requests this path has had, this one included. */
export type Route = (request: IncomingMessage, response: ServerResponse, count: number) => void;

export interface RequestRecord {
  path: string;
  headers: IncomingMessage["headers"];
}

export class FeedServer {
  readonly #server: Server;
  readonly #routes = new Map<string, Route>();
  readonly #counts = new Map<string, number>();
  readonly requests: RequestRecord[] = [];
  /** Requests being answered right now, and the most there were at once. */
  active = 0;
  maxActive = 0;

  constructor() {
    this.#server = createServer((request, response) => this.#handle(request, response));
  }

  async start(): Promise<void> {
    this.#server.listen(0, "127.0.0.1");
    await once(this.#server, "listening");
  }

  url(path: string): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}${path}`;
  }

  route(path: string, handler: Route): void {
    this.#routes.set(path, handler);
  }

  count(path: string): number {
    return this.#counts.get(path) ?? 0;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, "close");
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    const path = new URL(request.url ?? "/", "http://127.0.0.1").pathname;
    const count = (this.#counts.get(path) ?? 0) + 1;
    this.#counts.set(path, count);
    this.requests.push({ path, headers: request.headers });
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    const done = (): void => {
      this.active--;
    };
    response.once("close", done);
    const route = this.#routes.get(path);
    if (route === undefined) {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    route(request, response, count);
  }
}

/** Serves `body` with status 200 and the given headers. */
export function serve(body: string | Uint8Array, headers: Record<string, string> = { "content-type": "text/plain" }): Route {
  return (_request, response) => {
    response.writeHead(200, headers).end(body);
  };
}

/** Serves `body` with an ETag, and 304 to a request that sends the same ETag back. */
export function serveWithEtag(body: string | Uint8Array, etag: string): Route {
  return (request, response) => {
    if (request.headers["if-none-match"] === etag) {
      response.writeHead(304, { etag }).end();
      return;
    }
    response.writeHead(200, { "content-type": "text/plain", etag, "last-modified": "Sat, 04 Jul 2026 11:43:35 GMT" }).end(body);
  };
}

/** Answers with `status` for the first `failures` requests, then like `then`. */
export function failFirst(failures: number, status: number, then: Route): Route {
  return (request, response, count) => {
    if (count <= failures) {
      response.writeHead(status, { "content-type": "text/plain" }).end(`error ${status}\n`);
      return;
    }
    then(request, response, count);
  };
}

/** Waits `delayMs` before answering like `then`. */
export function delayed(delayMs: number, then: Route): Route {
  return (request, response, count) => {
    const timer = setTimeout(() => then(request, response, count), delayMs);
    response.once("close", () => clearTimeout(timer));
  };
}
